import { defineConfig } from 'vitest/config';
import { benchConfig } from '../../vitest.shared.js';

export default defineConfig(benchConfig);
