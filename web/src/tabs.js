// Tabs with the WAI-ARIA pattern: one tab stop, arrow keys / Home / End move between tabs, the URL hash
// remembers the view (so a view can be linked and reloaded), and a view is told when it is first shown.
import { $ } from './dom.js';

const onShow = new Map();

// fn runs when the panel is first shown, or every time with {everyTime: true} (views of live state).
export function whenShown(panelId, fn, { everyTime = false } = {}) {
  onShow.set(panelId, { fn, everyTime });
}

export function initTabs() {
  const tabs = [...document.querySelectorAll('[role=tab]')];
  const shown = new Set();
  const select = (tab, focus) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute('aria-controls')).hidden = !on;
    }
    const panel = tab.getAttribute('aria-controls');
    history.replaceState(null, '', `#${tab.id.replace(/^tab-/, '')}`);
    if (focus) tab.focus();
    const hook = onShow.get(panel);
    if (hook && (hook.everyTime || !shown.has(panel))) hook.fn();
    shown.add(panel);
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => select(tab, false));
    tab.addEventListener('keydown', (e) => {
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (next === undefined) return;
      e.preventDefault();
      select(tabs[(next + tabs.length) % tabs.length], true);
    });
  });
  const fromHash = () => {
    const tab = document.getElementById(`tab-${location.hash.slice(1)}`);
    return tabs.includes(tab) ? tab : null;
  };
  // A link or the address bar can open a view: #speed, #lookup, #catalog, #keys, #queries, #writes, #lab.
  window.addEventListener('hashchange', () => {
    const tab = fromHash();
    if (tab) select(tab, false);
  });
  select(fromHash() || tabs[0], false);
}
