import { render } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import './styles.css';
import { refreshSession } from './auth';
import { langStore, useLang } from './i18n';
import { Layout } from './layout';
import { matchRoute, useLocation } from './router';
import { Home } from './pages/Home';
import { Login } from './pages/Login';
import { Procedures } from './pages/Procedures';
import { ProcedureDetail } from './pages/ProcedureDetail';
import { Units } from './pages/Units';
import { UnitDetail } from './pages/UnitDetail';
import { AdminUsers } from './pages/AdminUsers';
import { AdminCalendar } from './pages/AdminCalendar';
import { AdminApiKeys, AdminExchange } from './pages/AdminExchange';
import { NotFound } from './pages/NotFound';
import { DossierNew } from './pages/DossierNew';
import { DossierReceipt } from './pages/DossierReceipt';
import { DossierDetail } from './pages/DossierDetail';
import { MyDossiers } from './pages/MyDossiers';
import { Notifications } from './pages/Notifications';
import { Track } from './pages/Track';
import { Queue } from './pages/Queue';
import { DeskNew } from './pages/DeskNew';
import { Dashboard } from './pages/Dashboard';
import { Registry } from './pages/Registry';
import { MyData } from './pages/MyData';
import { Verify, Wallet } from './pages/Wallet';
import { startUnreadPolling } from './dossier';
import { lazyPage } from './lazy';

// The operations centre (Leaflet, the map data, uPlot) is its own chunk, loaded on first visit.
const Ops = lazyPage(() => import('./pages/Ops').then((m) => m.Ops));

const routes = [
  { pattern: '/', render: () => <Home /> },
  { pattern: '/login', render: () => <Login /> },
  { pattern: '/procedures', render: () => <Procedures /> },
  { pattern: '/procedures/:code', render: (p: Record<string, string>) => <ProcedureDetail key={p.code} code={p.code} /> },
  { pattern: '/units', render: () => <Units /> },
  { pattern: '/units/:code', render: (p: Record<string, string>) => <UnitDetail key={p.code} code={p.code} /> },
  { pattern: '/admin/users', render: () => <AdminUsers /> },
  { pattern: '/admin/calendar', render: () => <AdminCalendar /> },
  { pattern: '/admin/exchange', render: () => <AdminExchange /> },
  { pattern: '/admin/api-keys', render: () => <AdminApiKeys /> },
  // One-stop shop (một cửa). Literal segments come before ":code".
  { pattern: '/dossiers/new', render: () => <DossierNew /> },
  { pattern: '/dossiers/:code/receipt', render: (p: Record<string, string>) => <DossierReceipt key={p.code} code={p.code} /> },
  { pattern: '/dossiers/:code', render: (p: Record<string, string>) => <DossierDetail key={p.code} code={p.code} /> },
  { pattern: '/me/dossiers', render: () => <MyDossiers /> },
  { pattern: '/me/notifications', render: () => <Notifications /> },
  { pattern: '/tra-cuu-ho-so', render: () => <Track /> },
  { pattern: '/track', render: () => <Track /> },
  { pattern: '/queue', render: () => <Queue /> },
  { pattern: '/desk/new', render: () => <DeskNew /> },
  { pattern: '/dashboard', render: () => <Dashboard /> },
  { pattern: '/ops', render: () => <Ops /> },
  { pattern: '/registry', render: () => <Registry /> },
  { pattern: '/me/data', render: () => <MyData /> },
  { pattern: '/me/wallet', render: () => <Wallet /> },
  { pattern: '/verify', render: () => <Verify /> },
];

function App() {
  useLang(); // re-render everything when the language changes
  const loc = useLocation();
  const firstPath = useRef(loc.path);
  useEffect(() => {
    // After client-side navigation, move focus to the new page's content for screen-reader users.
    if (loc.path === firstPath.current) return;
    firstPath.current = '';
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [loc.path]);
  return <Layout>{matchRoute(routes, loc.path, () => <NotFound />)}</Layout>;
}

document.documentElement.lang = langStore.get();
render(<App />, document.getElementById('app')!);
void refreshSession();
startUnreadPolling();
