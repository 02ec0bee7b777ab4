// halfwatt's statistics: descriptive statistics, normality and variance checks, ANOVA, t-tests,
// multiple comparisons, power and bootstrap intervals — agreeing with SciPy to 1e-6 relative.
export * from "./anova.js";
export * from "./blocked-anova.js";
export * from "./bootstrap.js";
export * from "./carbon.js";
export * from "./csv.js";
export * from "./descriptive.js";
export * from "./distributions.js";
export * from "./errors.js";
export * from "./groups.js";
export * from "./multiple.js";
export * from "./normality.js";
export * from "./power.js";
export * from "./studentized-range.js";
export * from "./tost.js";
export * from "./ttest.js";
export * from "./variance.js";
