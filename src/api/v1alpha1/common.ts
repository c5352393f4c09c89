/** Schema pieces every kind shares: references, conditions, job settings, collection selection. */
import { Type, type Static } from "@sinclair/typebox";
import { cel, CollectionName, IntOrString, ObjectName, OpaqueObject, StringEnum, StringMap } from "../schema-helpers.ts";

export const LocalObjectReference = Type.Object(
  { name: ObjectName("Name of the object, in the same namespace.") },
  { description: "A reference to an object in the same namespace." },
);
export type LocalObjectReference = Static<typeof LocalObjectReference>;

export const SecretKeySelector = Type.Object(
  {
    name: ObjectName("Name of the Secret, in the same namespace."),
    key: Type.String({ description: "Key within the Secret.", minLength: 1, maxLength: 253, pattern: "^[-._a-zA-Z0-9]+$" }),
  },
  { description: "A key of a Secret in the same namespace." },
);
export type SecretKeySelector = Static<typeof SecretKeySelector>;

export const Condition = Type.Object(
  {
    type: Type.String({ description: "Type of condition in CamelCase, e.g. Ready.", maxLength: 316 }),
    status: StringEnum(["True", "False", "Unknown"] as const, { description: "Status of the condition." }),
    reason: Type.String({ description: "Machine-readable CamelCase reason for the last transition.", maxLength: 1024 }),
    message: Type.String({ description: "Human-readable detail.", maxLength: 32768 }),
    lastTransitionTime: Type.String({ description: "When the status last changed.", format: "date-time" }),
    observedGeneration: Type.Optional(Type.Integer({ description: "The .metadata.generation the condition was set for.", minimum: 0 })),
  },
  { description: "A standard Kubernetes condition." },
);
export type Condition = Static<typeof Condition>;

/** `conditions` as a list-map keyed by type, so server-side apply merges by type. */
export const Conditions = Type.Unsafe<Condition[]>({
  ...Type.Array(Condition),
  description: "Standard conditions, one per type.",
  "x-kubernetes-list-type": "map",
  "x-kubernetes-list-map-keys": ["type"],
});

export const Toleration = Type.Object({
  key: Type.Optional(Type.String()),
  operator: Type.Optional(StringEnum(["Exists", "Equal"] as const)),
  value: Type.Optional(Type.String()),
  effect: Type.Optional(StringEnum(["NoSchedule", "PreferNoSchedule", "NoExecute"] as const)),
  tolerationSeconds: Type.Optional(Type.Integer()),
});

export const ResourceRequirements = Type.Object(
  {
    limits: Type.Optional(Type.Unsafe<Record<string, number | string>>({ type: "object", additionalProperties: { "x-kubernetes-int-or-string": true } })),
    requests: Type.Optional(Type.Unsafe<Record<string, number | string>>({ type: "object", additionalProperties: { "x-kubernetes-int-or-string": true } })),
  },
  { description: "Compute resources of the Job's container, as in a Pod spec." },
);

/**
 * How the operator's Jobs (snapshot upload, restore streaming, validation) are run. Every kind that
 * launches Jobs takes these; the manager's flags give the defaults.
 */
export const JobSettings = Type.Object(
  {
    image: Type.Optional(Type.String({ description: "Image of the Job's container. Defaults to the manager's --job-image (its own image).", minLength: 1 })),
    imagePullPolicy: Type.Optional(StringEnum(["Always", "IfNotPresent", "Never"] as const)),
    resources: Type.Optional(ResourceRequirements),
    nodeSelector: Type.Optional(StringMap("Node selector of the Job's pod.")),
    tolerations: Type.Optional(Type.Array(Toleration, { description: "Tolerations of the Job's pod." })),
    affinity: Type.Optional(OpaqueObject("Affinity of the Job's pod, as in a Pod spec.")),
    serviceAccountName: Type.Optional(ObjectName("ServiceAccount of the Job's pod. It needs no Kubernetes API rights.")),
    priorityClassName: Type.Optional(Type.String()),
    backoffLimit: Type.Optional(Type.Integer({ description: "Retries of a failed pod before the Job fails.", minimum: 0, maximum: 20, default: 3 })),
    activeDeadlineSeconds: Type.Optional(Type.Integer({ description: "Upper bound of the Job's run time.", minimum: 1 })),
    ttlSecondsAfterFinished: Type.Optional(Type.Integer({ description: "Delete the finished Job after this many seconds.", minimum: 0, default: 86400 })),
    podLabels: Type.Optional(StringMap("Extra labels on the Job's pod.")),
    podAnnotations: Type.Optional(StringMap("Extra annotations on the Job's pod.")),
  },
  { description: "Settings of the Kubernetes Jobs this resource launches." },
);
export type JobSettings = Static<typeof JobSettings>;

/** Which collections a backup covers: exactly one of names, all, or a pattern. */
export const CollectionSelector = Type.Object(
  {
    names: Type.Optional(Type.Array(CollectionName("A collection name (not an alias)."), { minItems: 1, maxItems: 256, description: "These collections.", "x-kubernetes-list-type": "set" })),
    all: Type.Optional(Type.Boolean({ description: "Every collection that exists when the backup starts." })),
    pattern: Type.Optional(Type.String({ description: "Collections whose name matches this regular expression (anchored: the whole name must match).", minLength: 1, maxLength: 1024 })),
  },
  {
    description: "Which collections to back up: exactly one of names, all or pattern.",
    ...cel({ rule: "[has(self.names), has(self.all) && self.all, has(self.pattern)].filter(x, x).size() == 1", message: "set exactly one of names, all: true, or pattern" }),
  },
);
export type CollectionSelector = Static<typeof CollectionSelector>;

export const DeletionPolicy = StringEnum(["Retain", "Delete"] as const, {
  description: "What deleting the resource does to the data in object storage. Retain (default) keeps it; retention is what deletes data.",
  default: "Retain",
});

export const Port = IntOrString("A port number or name.");
