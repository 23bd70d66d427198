import { defineConfig } from 'vitest/config';
import { benchConfig } from '../../vitest.shared.js';

// One bench file at a time: on this project's 2-CPU VM two files running side by side time each other.
export default defineConfig({ ...benchConfig, test: { ...benchConfig.test, fileParallelism: false } });
