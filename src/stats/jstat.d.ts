// The parts of jstat (a UMD/CommonJS package without types) that halfwatt uses. Under NodeNext
// ESM, `import jStat from "jstat"` yields module.exports, i.e. the jStat object.
declare module "jstat" {
  interface Distribution2 {
    cdf(x: number, a: number): number;
    inv(p: number, a: number): number;
  }
  interface Distribution3 {
    cdf(x: number, a: number, b: number): number;
    inv(p: number, a: number, b: number): number;
  }
  interface JStat {
    studentt: Distribution2;
    centralF: Distribution3;
    normal: Distribution3;
    tukey: Distribution3;
    noncentralt: { cdf(x: number, dof: number, ncp: number): number };
    gammaln(x: number): number;
  }
  const jStat: JStat;
  export default jStat;
}
