// The cachelab dashboard: wires each view to its part of the page. Views talk to the server only through
// api.js and render server values only as text (dom.js).
import './style.css';
import { getAdminToken, setAdminToken } from './api.js';
import { initKeys, showKeys } from './browser.js';
import { initLab, showLab } from './lab.js';
import { initCatalog, showCatalog } from './catalog.js';
import { initCompare } from './compare.js';
import { $ } from './dom.js';
import { initQueries, showQueries } from './inspector.js';
import { initLookup } from './lookup.js';
import { initStats } from './stats.js';
import { initTabs, whenShown } from './tabs.js';
import { initWrites, showWrites } from './writes.js';

const token = $('admin-token');
token.value = getAdminToken();
token.addEventListener('change', () => setAdminToken(token.value));

initStats();
initCompare();
initLookup();
initCatalog();
initKeys();
initQueries();
initWrites();
initLab();
whenShown('panel-catalog', showCatalog);
whenShown('panel-keys', showKeys, { everyTime: true });
whenShown('panel-queries', showQueries);
whenShown('panel-writes', showWrites);
whenShown('panel-lab', showLab, { everyTime: true });
initTabs();
