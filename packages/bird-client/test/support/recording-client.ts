import { BirdClient } from '../../src/client.js';
import type { BirdReply } from '../../src/reply-reader.js';

/**
 * A BirdClient that keeps, in order, every command line it is asked to send (a line it refuses before
 * sending, too long or not one line, too). Every typed method goes through `command()`.
 */
export class RecordingBirdClient extends BirdClient {
  readonly sent: string[] = [];

  override command(line: string): Promise<BirdReply> {
    this.sent.push(line);
    return super.command(line);
  }
}
