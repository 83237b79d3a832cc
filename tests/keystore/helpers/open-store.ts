/**
 * Child-process helper of lifecycle.test.ts (run as `node --import tsx open-store.ts <mode> <dir>`,
 * master key hex in MPCD_TEST_MASTER_KEY — test material only):
 * - `open`: open the store, print `opened`, close it; on a KeystoreError print `CODE: message` to
 *   stderr and exit 3;
 * - `rotate-and-die <k> <new key hex>`: rotate the master key and SIGKILL this process right
 *   after the k-th record, so nothing is closed or cleaned up (a real crash).
 */
import {
  Keystore,
  KeystoreError,
  parseMasterKey,
  rotateMasterKey,
} from '../../../keystore/index.js';

const [mode, dir, arg1, arg2] = process.argv.slice(2);
const key = parseMasterKey(process.env.MPCD_TEST_MASTER_KEY ?? '', 'MPCD_TEST_MASTER_KEY');

try {
  if (mode === 'open') {
    const ks = await Keystore.open({ dir: dir!, source: { kind: 'key', key } });
    process.stdout.write('opened\n');
    await ks.close();
  } else if (mode === 'rotate-and-die') {
    const k = Number(arg1);
    await rotateMasterKey({
      dir: dir!,
      from: { kind: 'key', key },
      to: { kind: 'key', key: parseMasterKey(arg2 ?? '', 'new key') },
      onProgress: (done) => {
        if (done === k) process.kill(process.pid, 'SIGKILL');
      },
    });
    process.stdout.write('rotation finished without a crash\n');
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} catch (err) {
  if (err instanceof KeystoreError) {
    process.stderr.write(`${err.code}: ${err.message}\n`);
    process.exit(3);
  }
  throw err;
}
