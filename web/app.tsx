import { useEffect, useState } from 'preact/hooks';
import { api, whenUnauthorized, type Account, type Group } from './api.js';
import { href, useRoute } from './router.js';
import { DeviceView } from './views/device.js';
import { DevicesView } from './views/devices.js';
import { FleetView } from './views/fleet.js';
import { GroupsView, GroupView } from './views/groups.js';
import { SignIn } from './views/sign-in.js';
import { UploadView } from './views/upload.js';

const SECTIONS = [
  ['devices', 'Devices'],
  ['groups', 'Groups'],
  ['fleet', 'Fleet'],
  ['upload', 'Upload'],
] as const;

/** Signed in or not: the registry decides (`GET /v1/account` with the cookie), nothing stored here. */
export function App() {
  const [account, setAccount] = useState<Account | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    whenUnauthorized(() => {
      setNotice('Your session ended: sign in again.');
      setAccount(null);
    });
    api<Account>('GET', '/v1/account').then(setAccount, () => setAccount(null));
  }, []);

  if (account === undefined) return <main aria-busy="true" />;
  if (account === null)
    return <SignIn notice={notice} onSignedIn={(a) => (setNotice(null), setAccount(a))} />;

  const signOut = async () => {
    try {
      await api('POST', '/v1/auth/logout');
    } finally {
      setNotice('Signed out.');
      setAccount(null);
    }
  };
  return <Shell account={account} onSignOut={() => void signOut()} />;
}

function Shell({ account, onSignOut }: { account: Account; onSignOut: () => void }) {
  const route = useRoute();
  const [groups, setGroups] = useState<Group[]>([]);
  const section = route.path[0] ?? 'devices';

  // Names for the group column and the upload form's targets (one page: the API's maximum).
  useEffect(() => {
    api<{ groups: Group[] }>('GET', '/v1/groups?limit=1000').then(
      (answer) => setGroups(answer.groups),
      () => undefined,
    );
  }, [section]);
  const groupNames = new Map(groups.map((g) => [g._id, g.name]));

  let view;
  if (section === 'devices' && route.path[1])
    view = <DeviceView key={route.path[1]} id={route.path[1]} groupNames={groupNames} />;
  else if (section === 'groups' && route.path[1])
    view = <GroupView key={route.path[1]} id={route.path[1]} groupNames={groupNames} />;
  else if (section === 'groups') view = <GroupsView groups={groups} />;
  else if (section === 'fleet') view = <FleetView groups={groups} />;
  else if (section === 'upload')
    view = <UploadView key={route.params.toString()} groups={groups} params={route.params} />;
  else view = <DevicesView groupNames={groupNames} />;

  return (
    <>
      <header>
        <nav aria-label="Sections">
          {SECTIONS.map(([path, label]) => (
            <a key={path} href={href(path)} aria-current={section === path ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who name" title={account.email}>
          {account.email}
        </span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <div id="main">{view}</div>
    </>
  );
}
