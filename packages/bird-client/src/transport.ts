import { createConnection, type Socket } from 'node:net';

/** Opens a stream to BIRD's control socket (a unix socket path). The only file here that touches node:net. */
export function openControlSocket(socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    const onError = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
