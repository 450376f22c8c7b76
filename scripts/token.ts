/**
 * `bun run token <userId> [--admin] [--expires 1h]`: prints an end-user JWT signed with the
 * configured JWT_SECRET (like Centrifugo's gentoken). `--admin` adds the claim `role: "admin"`.
 */
import { parseArgs } from "node:util";
import { parseDuration } from "../contracts/shared/duration";
import { ConfigError, loadConfig } from "../src/config";
import { createTokenService } from "../src/domain/tokens";

const usage = "usage: bun run token <userId> [--admin] [--expires 1h]";

try {
  const { values, positionals } = parseArgs({
    args: Bun.argv.slice(2),
    options: { admin: { type: "boolean", default: false }, expires: { type: "string" }, help: { type: "boolean" } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const userId = positionals[0]?.trim();
  if (!userId || positionals.length > 1) throw new Error(usage);
  const expiresInSeconds = values.expires === undefined ? undefined : parseDuration(values.expires);
  if (values.expires !== undefined && expiresInSeconds === undefined) {
    throw new Error(`--expires must be a duration such as "90s", "30m", "1h" or "7d" (got "${values.expires}")`);
  }
  const config = loadConfig();
  const tokens = createTokenService({
    secret: config.jwtSecret,
    defaultExpiresInSeconds: config.jwtExpiresInSeconds,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
  });
  const { token } = await tokens.sign(userId, {
    expiresInSeconds,
    claims: values.admin ? { role: "admin" } : {},
  });
  console.log(token);
} catch (error) {
  console.error(error instanceof ConfigError || error instanceof Error ? error.message : String(error));
  process.exit(1);
}
