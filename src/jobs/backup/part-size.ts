/**
 * The multipart part size for a snapshot of a known size. S3 allows at most 10,000 parts per upload, so a
 * fixed 8 MiB part stops a backup at ~78 GiB. The size is known before the download starts (Qdrant's
 * create answer, and Content-Length), so the part grows with it: at least 8 MiB (fewer requests for small
 * snapshots, and S3's 5 MiB minimum), at least size/9000 (a margin of 1,000 parts in case the file is a
 * little bigger than announced), rounded up to a whole MiB. Memory is about (queueSize + 1) parts, so a
 * 1 TiB snapshot costs ~120 MiB parts: the price of S3's limit.
 */

export const MIB = 1024 * 1024;
export const MIN_PART_SIZE = 8 * MIB;
/** Parts used at most for the announced size; S3's limit is 10,000. */
export const TARGET_MAX_PARTS = 9000;
/** S3's largest part. */
export const MAX_PART_SIZE = 5 * 1024 * MIB;

export function choosePartSize(sizeBytes: number): number {
  if (!Number.isFinite(sizeBytes) || sizeBytes < 0) throw new RangeError(`snapshot size ${sizeBytes} is not a byte count`);
  const needed = Math.ceil(sizeBytes / TARGET_MAX_PARTS / MIB) * MIB;
  const size = Math.max(MIN_PART_SIZE, needed);
  if (size > MAX_PART_SIZE) throw new RangeError(`a snapshot of ${sizeBytes} bytes is beyond S3's largest object (10,000 parts of 5 GiB)`);
  return size;
}
