/**
 * A throwaway public-key infrastructure for the test control plane, the way envtest makes one: a CA,
 * serving certificates for 127.0.0.1, client certificates for any user and groups, and the service-account
 * signing key. ECDSA P-256 keeps generation fast (RSA-2048 costs ~100 ms per key on this machine).
 */
import "reflect-metadata"; // @peculiar/x509 uses tsyringe, which needs the Reflect metadata API
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY_MS = 24 * 3600 * 1000;

/** A PEM certificate and its PEM (PKCS#8) private key. */
export interface KeyPairPem {
  cert: string;
  key: string;
}

/** A certificate authority that can sign serving and client certificates. */
export interface CertificateAuthority extends KeyPairPem {
  sign(req: LeafRequest): Promise<KeyPairPem>;
}

export interface LeafRequest {
  commonName: string;
  /** Becomes the subject's O attributes: Kubernetes reads them as the user's groups. */
  organizations?: string[];
  usage: "server" | "client" | "both";
  dnsNames?: string[];
  ipAddresses?: string[];
}

async function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
}

async function keyToPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  const body = der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
}

/** Escapes the characters RFC 4514 reserves, so a user name like "system:node:a,b" stays one attribute. */
function rdnValue(v: string): string {
  return v.replace(/([,+"\\<>;=])/g, "\\$1");
}

function validity(): { notBefore: Date; notAfter: Date } {
  // Back-dated an hour so small clock differences between processes never make a fresh cert "not yet valid".
  const now = Date.now();
  return { notBefore: new Date(now - 3600 * 1000), notAfter: new Date(now + 365 * DAY_MS) };
}

/** Creates a new self-signed CA. */
export async function createCertificateAuthority(commonName = "qdrant-operator-testenv-ca"): Promise<CertificateAuthority> {
  const keys = await newKeys();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${rdnValue(commonName)}`,
    keys,
    signingAlgorithm: ALG,
    ...validity(),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return authority(caCert, keys.privateKey, await keyToPem(keys.privateKey));
}

/**
 * Loads a CA written by an earlier call (the control plane keeps ca.crt and ca.key in its run dir), so
 * test processes can mint client certificates for any user without talking to the environment.
 */
export async function loadCertificateAuthority(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const der = Buffer.from(keyPem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");
  const privateKey = await webcrypto.subtle.importKey("pkcs8", der, ALG, true, ["sign"]);
  return authority(new x509.X509Certificate(certPem), privateKey, keyPem);
}

function authority(caCert: x509.X509Certificate, caKey: CryptoKey, keyPem: string): CertificateAuthority {
  return {
    cert: caCert.toString("pem") + "\n",
    key: keyPem,
    sign: async (req) => {
      const leafKeys = await newKeys();
      const subject = [`CN=${rdnValue(req.commonName)}`, ...(req.organizations ?? []).map((o) => `O=${rdnValue(o)}`)].join(", ");
      const ekus: string[] = [];
      if (req.usage !== "client") ekus.push(x509.ExtendedKeyUsage.serverAuth);
      if (req.usage !== "server") ekus.push(x509.ExtendedKeyUsage.clientAuth);
      const sans: x509.JsonGeneralName[] = [
        ...(req.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
        ...(req.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
      ];
      const extensions: x509.Extension[] = [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension(ekus),
        await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
      ];
      if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
      const leaf = await x509.X509CertificateGenerator.create({
        subject,
        issuer: caCert.subject,
        publicKey: leafKeys.publicKey,
        signingKey: caKey,
        signingAlgorithm: ALG,
        ...validity(),
        extensions,
      });
      return { cert: leaf.toString("pem") + "\n", key: await keyToPem(leafKeys.privateKey) };
    },
  };
}

/** A PEM key pair for signing and verifying service-account tokens. */
export async function createServiceAccountKey(): Promise<{ privateKey: string; publicKey: string }> {
  const keys = await newKeys();
  const spki = Buffer.from(await webcrypto.subtle.exportKey("spki", keys.publicKey));
  const body = spki.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return { privateKey: await keyToPem(keys.privateKey), publicKey: `-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----\n` };
}
