/**
 * modexp: the OpenSSL route vs plain BigInt square-and-multiply, measured in the same run, at the
 * moduli the protocol uses: N (2048/3072) with a full-size exponent, and N² (4096/6144) with an
 * N-sized exponent (ρ^N mod N², C^k mod N²). Target: ≥ 5× (issue 2).
 */
import { XofStream } from '../protocol/hash/transcript.js';
import { modPowBigint, modPowWithPath } from '../protocol/math/modular.js';
import { sampleBelow } from '../protocol/math/sample.js';
import { Bug } from '../protocol/errors.js';
import { LEVEL112, LEVEL128 } from '../protocol/params.js';
import { fixtureKey } from '../tests/helpers/fixtures.js';
import { measure, note, report, round } from './harness.js';

export function benchModexp(): void {
  const rng = new XofStream(new TextEncoder().encode('bench/modexp')).rng;
  for (const level of [LEVEL112, LEVEL128]) {
    const key = fixtureKey(level, 0);
    for (const [label, m, expBits] of [
      ['N', key.N, level.modulusBits],
      ['N^2', key.N2, level.modulusBits],
    ] as const) {
      note(`modexp ${level.name} mod ${label}`);
      const base = sampleBelow(rng, m);
      const exp = sampleBelow(rng, 1n << BigInt(expBits));
      const fast = modPowWithPath(base, exp, m);
      if (fast.path !== 'openssl') throw new Bug('benchmark expected the OpenSSL path');
      if (fast.value !== modPowBigint(base, exp, m))
        throw new Bug('fast modexp disagrees with BigInt');
      const f = measure(() => modPowWithPath(base, exp, m));
      const b = measure(() => modPowBigint(base, exp, m), { samples: 3 });
      report({
        bench: 'modexp',
        level: level.name,
        modulus: label,
        modulusBits: m.toString(2).length,
        exponentBits: expBits,
        opensslOpsPerSec: round(1000 / f.medianMs, 1),
        bigintOpsPerSec: round(1000 / b.medianMs, 1),
        speedup: round(b.medianMs / f.medianMs, 2),
      });
    }
  }
}
