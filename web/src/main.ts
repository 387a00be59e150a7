import { el, errorText, field, leaveScreen, show } from './dom.js';
import { restoreSession, signIn, signOut, type Session } from './session.js';
import { labelingView } from './views/labeling.js';
import { qualityView } from './views/quality.js';
import { reviewView } from './views/review.js';
import { transformView } from './views/transform.js';
import { transformsView } from './views/transforms.js';

const app = document.getElementById('app')!;
let session = restoreSession();

function signInView(): void {
  const accessKey = el('input', { name: 'access-key', autocomplete: 'username', required: true });
  const secret = el('input', { name: 'secret-key', type: 'password', autocomplete: 'current-password', required: true });
  const region = el('input', { name: 'region', value: 'us-east-1', required: true });
  const message = el('p', { id: 'sign-in-error', class: 'message', role: 'alert' });
  const form = el(
    'form',
    { class: 'sign-in', 'aria-label': 'Sign in' },
    el('h1', {}, 'Sign in'),
    el('p', {}, 'The UI calls doppel as a Glue and S3 client, signing every call with these credentials; they stay in this tab.'),
    field('Access key ID', accessKey),
    field('Secret access key', secret),
    field('Region', region),
    el('button', { type: 'submit' }, 'Sign in'),
    message,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.textContent = '';
    try {
      session = await signIn({ accessKeyId: accessKey.value.trim(), secretAccessKey: secret.value, region: region.value.trim() });
      route();
    } catch (err) {
      message.textContent = `Refused: ${errorText(err)}`;
    }
  });
  show(app, form);
  accessKey.focus();
}

function header(current: Session | undefined): void {
  const who = document.getElementById('who')!;
  if (!current) {
    show(who);
    return;
  }
  const out = el('button', { type: 'button', id: 'sign-out' }, 'Sign out');
  out.addEventListener('click', () => {
    signOut();
    session = undefined;
    route();
  });
  show(who, `${current.credentials.accessKeyId} · ${current.credentials.region} `, out);
}

/** Hash routes: #/transforms, #/transform/<id>[/label|/quality|/review]. */
async function route(): Promise<void> {
  leaveScreen();
  header(session);
  if (!session) return signInView();
  const [, kind, id, screen] = location.hash.split('/');
  app.setAttribute('aria-busy', 'true');
  try {
    if (kind === 'transform' && id) {
      if (screen === 'label') await labelingView(session, app, id);
      else if (screen === 'quality') await qualityView(session, app, id);
      else if (screen === 'review') await reviewView(session, app, id);
      else await transformView(session, app, id);
    } else await transformsView(session, app);
  } catch (e) {
    show(app, el('p', { class: 'message', role: 'alert' }, errorText(e)));
  } finally {
    app.removeAttribute('aria-busy');
  }
}

window.addEventListener('hashchange', () => void route());
void route();
