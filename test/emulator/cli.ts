/**
 * Command line: `qdrant --port 6333 [--peers 3] [--api-key K] [--read-only-api-key K] [--data-dir D]
 * [--admin-port P] [--host H]`. Runs in the foreground, prints the URLs as one JSON line and stops cleanly on
 * SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { startEmulator } from "./index.ts";

function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`--${name} must be a non-negative integer, got ${value}`);
  return Number(value);
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      peers: { type: "string" },
      "api-key": { type: "string" },
      "read-only-api-key": { type: "string" },
      "data-dir": { type: "string" },
      "admin-port": { type: "string" },
      host: { type: "string" },
    },
    strict: true,
  });
  const handle = await startEmulator({
    port: intOption(values.port, "port") ?? 6333,
    peers: intOption(values.peers, "peers"),
    apiKey: values["api-key"] ?? process.env.QDRANT__SERVICE__API_KEY,
    readOnlyApiKey: values["read-only-api-key"] ?? process.env.QDRANT__SERVICE__READ_ONLY_API_KEY,
    dataDir: values["data-dir"],
    adminPort: intOption(values["admin-port"], "admin-port"),
    host: values.host,
  });
  process.stdout.write(`${JSON.stringify({ url: handle.url, peers: handle.peers, adminUrl: handle.adminUrl, dataDir: handle.dataDir })}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      handle.stop().then(resolve, (err: unknown) => {
        console.error(err);
        resolve();
      });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
