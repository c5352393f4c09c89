/**
 * Entry point of the Qdrant 1.19.0 emulator used by the operator's tests, `npm run dev` and benchmarks.
 * See README.md beside this file for what is emulated and what is not.
 */
import { Emulator, type EmulatorHandle, type EmulatorOptions } from "./emulator.ts";

export type { EmulatorHandle, EmulatorOptions } from "./emulator.ts";

/** Starts a standalone instance (peers 1) or an N-peer cluster (peer i on 127.0.0.(i+1), one shared port). */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<EmulatorHandle> {
  return (await Emulator.start(opts)).handle();
}
