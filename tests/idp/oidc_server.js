// A real OpenID Connect provider for the SSO tests: oidc-provider (OpenID-certified) with its
// own signing key, one confidential client and a plain HTML log-in page, on loopback only.
//
// Configuration is one JSON object, from argv[2] (JSON text, or a path to a JSON file) or the
// OIDC_IDP_CONFIG environment variable:
//   {
//     "port": 0,                       // 0 picks a free port; the ready line says which
//     "client": {"client_id": "...", "client_secret": "...", "redirect_uris": ["..."],
//                 "token_endpoint_auth_method": "client_secret_post", ...other client metadata},
//     "accounts": [{"email": "...", "email_verified": true, "given_name": "...",
//                   "family_name": "...", "amr": ["pwd", "mfa"], "acr": "...",
//                   "sub": "...", "password": "..."}],   // sub, amr, acr, password optional
//     "acr_values": ["..."],            // acr values the provider may assert (discovery lists them)
//     "require_pkce": false,           // true: refuse authorization requests without PKCE
//     "admin_token": "..."              // bearer token for PUT/GET /_idp/accounts
//   }
// When listening it prints one line: `READY {"issuer": ..., "port": ...}`.
// Tests replace the accounts with `PUT /_idp/accounts` (a JSON list, Authorization: Bearer <admin_token>).

import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";

import Provider from "oidc-provider";

const DEFAULT_ACR_VALUES = [
  "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
  "http://schemas.openid.net/pape/policies/2007/06/multi-factor",
];

function readConfig() {
  const raw = process.argv[2] ?? process.env.OIDC_IDP_CONFIG;
  if (!raw) {
    throw new Error("pass the configuration as JSON (argv[2] or OIDC_IDP_CONFIG)");
  }
  const text = raw.trim().startsWith("{") ? raw : readFileSync(raw, "utf8");
  return JSON.parse(text);
}

const config = readConfig();
const adminToken = config.admin_token ?? randomBytes(16).toString("hex");
let accounts = [];

function setAccounts(list) {
  if (!Array.isArray(list)) {
    throw new TypeError("accounts must be a JSON list");
  }
  accounts = list.map((account) => {
    if (typeof account.email !== "string" || !account.email) {
      throw new TypeError("every account needs an email");
    }
    return { ...account, sub: String(account.sub ?? account.email.toLowerCase()) };
  });
}

const accountById = (sub) => accounts.find((account) => account.sub === sub);
const accountByEmail = (email) =>
  accounts.find((account) => account.email.toLowerCase() === String(email).trim().toLowerCase());

setAccounts(config.accounts ?? []);

const escapeHtml = (value) =>
  String(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function page(title, body) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>`;
}

function loginPage(uid, clientId, { email = "", error = "" } = {}) {
  const alert = error ? `<p role="alert">${escapeHtml(error)}</p>` : "";
  return page(
    "Test IdP sign-in",
    `<p>Signing in to <code>${escapeHtml(clientId)}</code>.</p>
${alert}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
  <p><label for="email">E-mail</label>
  <input id="email" name="email" type="email" autocomplete="username" value="${escapeHtml(email)}" required></p>
  <p><label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password"></p>
  <p><button type="submit">Sign in</button></p>
</form>
<form method="post" action="/interaction/${escapeHtml(uid)}/abort">
  <p><button type="submit">Cancel</button></p>
</form>`,
  );
}

function send(res, status, body, type = "text/html; charset=utf-8") {
  res.statusCode = status;
  res.setHeader("Content-Type", type);
  res.setHeader("Cache-Control", "no-store");
  res.end(body);
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

// A grant for everything the client asked for: the test IdP never shows a consent screen.
async function grantEverything(provider, details) {
  const { prompt, params, session } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) {
    grant.addOIDCScope(prompt.details.missingOIDCScope.join(" "));
  }
  if (prompt.details.missingOIDCClaims) {
    grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  }
  for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(" "));
  }
  return grant.save();
}

async function handleInteraction(provider, req, res, url) {
  const [, , uid, action] = url.pathname.split("/");
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    send(res, 400, page("Interaction mismatch", "<p>This sign-in page is stale.</p>"));
    return;
  }
  const clientId = details.params.client_id;

  if (req.method === "GET" && !action) {
    if (details.prompt.name === "consent") {
      const grantId = await grantEverything(provider, details);
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    send(res, 200, loginPage(uid, clientId, { email: details.params.login_hint ?? "" }));
    return;
  }
  if (req.method === "POST" && action === "abort") {
    await readBody(req);
    await provider.interactionFinished(
      req,
      res,
      { error: "access_denied", error_description: "The user cancelled the sign-in." },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  if (req.method === "POST" && action === "login") {
    const form = new URLSearchParams(await readBody(req));
    const email = form.get("email") ?? "";
    const account = accountByEmail(email);
    const wrongPassword = account?.password !== undefined && account.password !== form.get("password");
    if (!account || wrongPassword) {
      send(res, 401, loginPage(uid, clientId, { email, error: "Unknown e-mail address or wrong password." }));
      return;
    }
    const login = { accountId: account.sub, remember: false };
    if (Array.isArray(account.amr)) {
      login.amr = account.amr;
    }
    if (account.acr) {
      login.acr = account.acr;
    }
    await provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
    return;
  }
  send(res, 405, page("Not allowed", "<p>Method not allowed.</p>"));
}

async function handleAdmin(req, res, url) {
  if (req.headers.authorization !== `Bearer ${adminToken}`) {
    send(res, 401, JSON.stringify({ error: "unauthorized" }), "application/json");
    return;
  }
  if (url.pathname === "/_idp/accounts" && req.method === "PUT") {
    try {
      setAccounts(JSON.parse(await readBody(req)));
    } catch (error) {
      send(res, 400, JSON.stringify({ error: String(error.message) }), "application/json");
      return;
    }
    send(res, 200, JSON.stringify(accounts), "application/json");
    return;
  }
  if (url.pathname === "/_idp/accounts" && req.method === "GET") {
    send(res, 200, JSON.stringify(accounts), "application/json");
    return;
  }
  send(res, 404, JSON.stringify({ error: "not found" }), "application/json");
}

function buildProvider(issuer, signingKey) {
  const client = {
    token_endpoint_auth_method: "client_secret_post",
    grant_types: ["authorization_code"],
    response_types: ["code"],
    ...config.client,
  };
  const acrValues = new Set([
    ...(config.acr_values ?? DEFAULT_ACR_VALUES),
    ...accounts.map((account) => account.acr).filter(Boolean),
  ]);
  return new Provider(issuer, {
    clients: [client],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    acrValues: [...acrValues],
    scopes: ["openid", "offline_access"],
    claims: {
      // acr and amr ride on the openid scope so every ID token says how the user signed in
      // (oidc-provider otherwise adds acr only when the client sends acr_values, amr never).
      openid: ["sub", "acr", "amr"],
      email: ["email", "email_verified"],
      profile: ["given_name", "family_name", "name"],
      acr: null,
      amr: null,
      auth_time: null,
      sid: null,
      iss: null,
    },
    // Put the scope's claims in the ID token too, not only behind the userinfo endpoint.
    conformIdTokenClaims: false,
    pkce: { required: () => Boolean(config.require_pkce) },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      // RP-initiated logout with a plain page of our own (the default one loads web fonts).
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = `<!doctype html><html lang="en"><head><title>Sign out</title></head><body>
<h1>Sign out of the test identity provider?</h1>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button></body></html>`;
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = `<!doctype html><html lang="en"><head><title>Signed out</title></head><body><h1>Signed out</h1></body></html>`;
        },
      },
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    // A plain error page (the default one loads web fonts from another host).
    async renderError(ctx, out) {
      ctx.type = "html";
      ctx.body = `<!doctype html><html lang="en"><head><title>Error</title></head><body><h1>${out.error}</h1><p>${out.error_description ?? ""}</p></body></html>`;
    },
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      const grant = grantId
        ? await ctx.oidc.provider.Grant.find(grantId)
        : new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(" "));
      grant.addOIDCClaims([...ctx.oidc.requestParamClaims]);
      await grant.save();
      return grant;
    },
    async findAccount(ctx, sub) {
      const account = accountById(sub);
      if (!account) {
        return undefined;
      }
      return {
        accountId: sub,
        async claims() {
          const name = [account.given_name, account.family_name].filter(Boolean).join(" ");
          return {
            sub,
            email: account.email,
            email_verified: account.email_verified ?? true,
            given_name: account.given_name,
            family_name: account.family_name,
            ...(name ? { name } : {}),
          };
        },
      };
    },
  });
}

async function main() {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: "jwk" }), kid: randomUUID(), use: "sig", alg: "RS256" };

  let callback;
  let provider;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    try {
      if (url.pathname.startsWith("/interaction/")) {
        await handleInteraction(provider, req, res, url);
      } else if (url.pathname.startsWith("/_idp/")) {
        await handleAdmin(req, res, url);
      } else {
        callback(req, res);
      }
    } catch (error) {
      console.error(error);
      if (!res.headersSent) {
        send(res, 400, page("Sign-in error", `<p>${escapeHtml(error.message)}</p>`));
      }
    }
  });

  server.listen(Number(config.port ?? 0), "127.0.0.1", () => {
    const { port } = server.address();
    const issuer = config.issuer ?? `http://127.0.0.1:${port}`;
    provider = buildProvider(issuer, signingKey);
    provider.on("server_error", (ctx, error) => console.error("server_error", error));
    callback = provider.callback();
    console.log(`READY ${JSON.stringify({ issuer, port, admin_token: adminToken })}`);
  });

  const stop = () => server.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
