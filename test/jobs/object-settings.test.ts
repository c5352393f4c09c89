import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AgeKeys } from "../../src/backup/codec/types.ts";
import { isOperatorError } from "../../src/errors.ts";
import type { BackupJobPlan } from "../../src/jobs/backup/contract.ts";
import { objectLockRecord, objectSettings } from "../../src/jobs/backup/object-settings.ts";

const START = new Date("2026-12-02T10:00:00.000Z");
const KEYS: AgeKeys = { identities: ["AGE-SECRET-KEY-1XXXX"], recipients: ["age1first", "age1second"] };
const plan = (over: Partial<BackupJobPlan>) => over as BackupJobPlan;

describe("objectSettings: how a backup Job writes each object", () => {
  const rows: Array<[string, Partial<BackupJobPlan>, AgeKeys | undefined, object]> = [
    ["neither: the snapshot as Qdrant made it", {}, undefined, { keyEncoding: {}, manifestEncoding: {} }],
    [
      "zstd at the plan's level",
      { encoding: { compression: { algorithm: "zstd", level: 7 } } },
      undefined,
      { encode: { compression: { algorithm: "zstd", level: 7 } }, keyEncoding: { compression: "zstd" }, manifestEncoding: { compression: { algorithm: "zstd", level: 7 } } },
    ],
    [
      "age: to the key file's recipients, which the manifest records (public keys), never the identities",
      { encoding: { encryption: { scheme: "age-v1", keyRef: "s/k" } } },
      KEYS,
      {
        encode: { encryption: { keys: KEYS } },
        keyEncoding: { encrypted: true },
        manifestEncoding: { encryption: { scheme: "age-v1", keyRef: "s/k", parameters: { recipients: ["age1first", "age1second"] } } },
      },
    ],
    [
      "Object Lock: the Job's start plus retainDays, in S3's spelling",
      { objectLock: { mode: "Compliance", retainDays: 30 } },
      undefined,
      { keyEncoding: {}, manifestEncoding: {}, objectLock: { mode: "COMPLIANCE", retainUntil: new Date("2027-01-01T10:00:00.000Z") } },
    ],
  ];
  for (const [name, p, keys, want] of rows) test(name, () => assert.deepEqual(objectSettings(plan(p), keys, START), want));

  test("encrypting with no key file is EncryptionKeyRequired, before anything runs", () => {
    assert.throws(() => objectSettings(plan({ encoding: { encryption: { scheme: "age-v1", keyRef: "s/k" } } }), undefined, START), (e) => isOperatorError(e, "ENCRYPTION_KEY_REQUIRED") && /s\/k/.test(e.message));
  });

  test("the date is rounded up to the second, as S3 keeps it", () => {
    const at = new Date("2026-12-02T10:00:00.250Z");
    assert.deepEqual(objectSettings(plan({ objectLock: { mode: "Governance", retainDays: 1 } }), undefined, at).objectLock?.retainUntil, new Date("2026-12-03T10:00:01.000Z"));
  });

  test("the record says Governance or Compliance and an RFC 3339 date", () => {
    assert.deepEqual(objectLockRecord(objectSettings(plan({ objectLock: { mode: "Governance", retainDays: 1 } }), undefined, START)), { mode: "Governance", retainUntil: "2026-12-03T10:00:00.000Z" });
    assert.equal(objectLockRecord(objectSettings(plan({}), undefined, START)), undefined);
  });
});
