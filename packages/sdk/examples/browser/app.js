// The example page's script. It loads the SDK's ESM build straight from /sdk/ (no bundler).
import { createStorefrontSDK, localStorageStorage } from '/sdk/index.js';

const config = await (await fetch('/config.json')).json();
const $ = (id) => document.getElementById(id);
let refreshes = 0;

function log(text, className) {
  const item = document.createElement('li');
  item.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  if (className) item.className = className;
  $('events').prepend(item);
}

const sdk = createStorefrontSDK({
  baseUrl: `${location.origin}/api/v1/${config.storeId}/storefront/`,
  apiKey: config.apiKey,
  tokenStorage: localStorageStorage(),
  autoRefresh: true,
  // Tokens are never shown or logged: only what they say about the session.
  onTokensUpdated: (_tokens, { source }) => {
    if (source === 'refresh') refreshes += 1;
    log(`tokens updated (${source})`);
    void render();
  },
  onSessionEnded: (reason) => log(`session ended: ${reason}`, 'ended'),
  onRefreshFailed: (error) => log(`refresh failed, session kept: ${error.code}`, 'failed'),
});

async function render() {
  const info = await sdk.session.info();
  $('user').textContent = info.userId ?? '—';
  $('anonymous').textContent = info.isAnonymous === null ? '—' : info.isAnonymous ? 'yes' : 'no';
  $('expiry').textContent =
    info.secondsToExpiry === null ? '—' : `${Math.max(0, Math.round(info.secondsToExpiry))} s`;
  $('count').textContent = String(refreshes);
}

$('refresh').addEventListener('click', async () => {
  const tokens = await sdk.session.getTokens();
  if (!tokens) return log('no session yet', 'failed');
  const { error } = await sdk.auth.refreshToken({ refresh_token: tokens.refresh_token });
  if (error) log(`refresh now: ${error.code}`, 'failed');
  else log('refresh now: done');
  await render();
});

$('new-session').addEventListener('click', async () => {
  const { error } = await sdk.auth.getAnonymousToken();
  log(error ? `new session: ${error.code}` : 'new anonymous session', error ? 'failed' : undefined);
  await render();
});

// Another tab rotated the pair: show it here too.
addEventListener('storage', () => void render());
setInterval(() => void render(), 1000);

await sdk.session.ensureAccessToken();
await render();
document.body.dataset.ready = 'true';
