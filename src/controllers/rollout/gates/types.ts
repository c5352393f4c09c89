/** One row of status.gates / status.analysis.results: the gate, whether it passed, what was seen and what was asked. */
import type { Static } from "@sinclair/typebox";
import type { GateResult as GateResultSchema } from "../../../api/v1alpha1/rollout.ts";

export type GateResult = Static<typeof GateResultSchema>;
