#!/usr/bin/env node
import process from 'node:process';
import { processIO } from '../dist/cli/io.js';
import { main } from '../dist/cli/main.js';

process.exitCode = main(process.argv.slice(2), processIO);
