/** The benchmarks' and size tests' rules file of `count` rules, and a health state for it. */
export { generateRules } from '@rhi/test-support';
