// Issue 21: in-place DOM updates for the supervisor page's big tables. A row
// is made once per key and afterwards only the text and attributes that
// changed are written, so an update to one agent among 500 touches one row
// and does not lay the page out again.

// Write the text only when it differs.
// The last text written is kept on the node: reading textContent back costs more.
export function setText(node, text) {
  const value = String(text ?? "");
  if (node.keyedText === value) return;
  node.keyedText = value;
  const only = node.firstChild;
  // One text node: its data changes in place (no node made, none removed).
  if (only && only === node.lastChild && only.nodeType === Node.TEXT_NODE && value) only.data = value;
  else node.textContent = value;
}

// Set (or with null/undefined/false remove) an attribute only when it differs.
export function setAttr(node, name, value) {
  if (value === null || value === undefined || value === false) {
    if (node.hasAttribute(name)) node.removeAttribute(name);
    return;
  }
  const text = String(value);
  if (node.getAttribute(name) !== text) node.setAttribute(name, text);
}

// Make `parent`'s children the records' nodes of `items`, in order: a record
// (`make(item)` -> { node, ... }) is made once per key and kept in `records`
// (key -> record); `update(record, item)` writes what changed, and is skipped
// when the item is the very object last written with the same `context`
// (a keyed patch keeps the objects of what did not change). Nodes already
// in place are not moved; records whose key left are removed, and so are
// other children (a placeholder).
export function reconcile(parent, records, items, keyOf, make, update, context = null) {
  const keys = new Set(items.map(keyOf));
  // Those that left go first, so the others are not moved past them.
  for (const [key, record] of records) {
    if (!keys.has(key)) {
      record.node.remove();
      records.delete(key);
    }
  }
  const seen = new Set();
  let prev = null;
  for (const item of items) {
    const key = keyOf(item);
    if (seen.has(key)) continue;
    seen.add(key);
    let record = records.get(key);
    if (!record) {
      record = make(item);
      records.set(key, record);
    }
    if (record.item !== item || record.context !== context) {
      update(record, item);
      record.item = item;
      record.context = context;
    }
    const want = prev ? prev.nextSibling : parent.firstChild;
    if (want !== record.node) parent.insertBefore(record.node, want);
    prev = record.node;
  }
  const stop = prev ? prev.nextSibling : parent.firstChild;
  for (let node = stop; node;) {
    const next = node.nextSibling;
    node.remove();
    node = next;
  }
}

// Make `old` look like `fresh` (a detached tree just built), writing only the
// attributes and texts that differ and keeping the nodes that are there; a
// node of another tag or another number of children is replaced. For small
// trees drawn whole each time (the wallboard, the KPI cards).
export function morph(old, fresh) {
  if (old.nodeType !== fresh.nodeType || old.nodeName !== fresh.nodeName) {
    old.replaceWith(fresh);
    return fresh;
  }
  if (old.nodeType === Node.TEXT_NODE) {
    if (old.data !== fresh.data) {
      old.data = fresh.data;
      if (old.parentNode) delete old.parentNode.keyedText; // setText writes again
    }
    return old;
  }
  for (const { name, value } of [...fresh.attributes]) {
    if (old.getAttribute(name) !== value) old.setAttribute(name, value);
  }
  for (const { name } of [...old.attributes]) {
    if (!fresh.hasAttribute(name)) old.removeAttribute(name);
  }
  morphChildren(old, [...fresh.childNodes]);
  return old;
}

// `parent`'s children made like `fresh` (a list of detached nodes).
export function morphChildren(parent, fresh) {
  const olds = [...parent.childNodes];
  if (olds.length !== fresh.length) {
    parent.replaceChildren(...fresh);
    return;
  }
  olds.forEach((node, i) => morph(node, fresh[i]));
}

// Apply a keyed patch of PROTOCOL.md ({key, set, remove, order} or {key, all})
// to `list`; returns the new list. `stamp(item)` is called for every item set.
export function applyPatch(list, patch, stamp) {
  if ("all" in patch) {
    for (const item of patch.all ?? []) stamp(item);
    return patch.all ?? [];
  }
  const field = patch.key;
  const byKey = new Map((list ?? []).map((item) => [item[field], item]));
  for (const key of patch.remove ?? []) byKey.delete(key);
  const order = patch.order ?? (list ?? []).map((item) => item[field]);
  for (const item of patch.set ?? []) {
    byKey.set(item[field], item);
    stamp(item);
  }
  const out = [];
  for (const key of order) if (byKey.has(key)) out.push(byKey.get(key));
  return out;
}
