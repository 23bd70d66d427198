/** A large rules file and a health state for it: the generator rules-dsl's benchmarks use (`terms` too). */
export { generateRules as bigRuleSet } from '@rhi/test-support';
