/** Builds CustomResourceDefinition objects from the kind definitions. */
import type { TSchema } from "@sinclair/typebox";
import { CATEGORY, GROUP, VERSION } from "./group.ts";
import type { KindDefinition } from "./kinds.ts";

/** Plain JSON: drops TypeBox's symbol keys and undefined values. */
export function plainSchema(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

/** The full object schema of a kind: apiVersion, kind, metadata, spec, status. */
export function objectSchema(def: KindDefinition): Record<string, unknown> {
  return {
    type: "object",
    description: def.description,
    required: ["spec"],
    properties: {
      apiVersion: { type: "string", description: "APIVersion of this representation of the object." },
      kind: { type: "string", description: "Kind of the object." },
      metadata: {
        type: "object",
        properties: {
          // Collection-derived child names must fit in 63 characters; keep the parent's short.
          name: { type: "string", maxLength: 63 },
        },
      },
      spec: plainSchema(def.spec),
      status: plainSchema(def.status),
    },
  };
}

export function customResourceDefinition(def: KindDefinition): Record<string, unknown> {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${def.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: { kind: def.kind, listKind: `${def.kind}List`, plural: def.plural, singular: def.singular, shortNames: def.shortNames, categories: [CATEGORY] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.columns,
          schema: { openAPIV3Schema: objectSchema(def) },
        },
      ],
    },
  };
}
