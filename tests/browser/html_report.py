"""Opens cwl-audit HTML reports in headless Chromium (Selenium) and checks each against the JSON
report of the same run. tests/it/html.rs writes the reports and a spec, then runs:

    html_report.py SPEC.json      (env CWL_AUDIT_CHROMIUM, CWL_AUDIT_CHROMEDRIVER)

Every report: the script ran (the CSP allows it by hash) and nothing else did (no dialog, no CSP
violation, no console error, no resource loaded, no element a snapshot string could have made),
the matrix has one row per account and one cell per rule whose verdict class is the JSON
report's, and the text shows no control or bidi character. With several accounts: sorting,
filtering, and a failing account's chain with its broken link highlighted. The hostile report:
its strings are shown as text. Screenshots go to the spec's `screenshots` directory.
"""
import json
import os
import sys
import time
import unicodedata

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

# Counts what the page might run instead of letting it happen: dialogs (an open one would also
# block the driver) and CSP violations. Installed before any of the page's own code runs.
WATCH = """
window.__dialogs = [];
window.__csp = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  Object.defineProperty(window, name, {
    value: (...args) => { window.__dialogs.push(name + ":" + args.join(",")); },
    writable: false, configurable: false,
  });
}
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
});
"""

HIDDEN = set("\u061c\u200e\u200f\u2028\u2029") | {chr(c) for c in range(0x202A, 0x202F)} | {
    chr(c) for c in range(0x2066, 0x206A)
}


def clean(s):
    """src/text.rs `clean`: control and bidi characters become spaces."""
    return "".join(" " if unicodedata.category(c) == "Cc" or c in HIDDEN else c for c in s)


def browser():
    o = webdriver.ChromeOptions()
    o.binary_location = os.environ["CWL_AUDIT_CHROMIUM"]
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1280,900", "--force-device-scale-factor=1", "--hide-scrollbars"]:
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(os.environ["CWL_AUDIT_CHROMEDRIVER"]), options=o)
    d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})
    return d


def expected(doc):
    """(accounts, rules, {(account, rule): verdict}) of a JSON report."""
    cells = {(r["account_id"], r["rule_id"]): r["verdict"] for r in doc["results"]}
    accounts = sorted({a for a, _ in cells})
    rules = sorted({r for _, r in cells})
    return accounts, rules, cells


def matrix(d):
    """What the page shows: the rule columns, and each visible row's account and cell classes."""
    return d.execute_script("""
      const rules = [...document.querySelectorAll('#matrix thead th.rule')].map(th => th.dataset.rule);
      const rows = [...document.querySelectorAll('#matrix tr[data-i]')].filter(tr => !tr.hidden
          && !tr.closest('tbody').hidden).map(tr => ({
        account: tr.dataset.account,
        cells: [...tr.querySelectorAll('td:not(.count)')].map(td => td.className),
      }));
      return {rules, rows};
    """)


def load(d, html):
    d.get("file://" + html)
    WebDriverWait(d, 30).until(lambda d: d.find_element(By.ID, "shown").text.startswith("Showing"))


def check_safe(d, name):
    """Nothing but the page's own code ran, and nothing was loaded."""
    state = d.execute_script("""
      const all = [...document.querySelectorAll('*')];
      return {
        dialogs: window.__dialogs, csp: window.__csp,
        resources: performance.getEntriesByType('resource').map(e => e.name),
        scripts: document.scripts.length,
        foreign: all.filter(e => ['IMG', 'IFRAME', 'OBJECT', 'EMBED', 'LINK', 'FORM', 'BASE', 'SVG',
            'svg', 'MATH', 'math', 'B', 'VIDEO', 'AUDIO'].includes(e.tagName)).map(e => e.outerHTML.slice(0, 80)),
        handlers: all.flatMap(e => [...e.attributes].filter(a => a.name.startsWith('on'))
            .map(a => e.tagName + ' ' + a.name)),
        csp_meta: (document.querySelector('meta[http-equiv="Content-Security-Policy"]') || {}).content || '',
        text: document.body.innerText,
      };
    """)
    assert state["dialogs"] == [], f"{name}: dialogs opened: {state['dialogs']}"
    assert state["csp"] == [], f"{name}: CSP violations: {state['csp']}"
    assert state["resources"] == [], f"{name}: resources loaded: {state['resources']}"
    assert state["scripts"] == 2, f"{name}: {state['scripts']} script elements (data + code expected)"
    assert state["foreign"] == [], f"{name}: elements no report writes: {state['foreign']}"
    assert state["handlers"] == [], f"{name}: event handler attributes: {state['handlers']}"
    csp = state["csp_meta"]
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp, f"{name}: CSP {csp!r}"
    bad = sorted({hex(ord(c)) for c in state["text"] if c not in "\n\t" and clean(c) != c})
    assert not bad, f"{name}: hidden characters shown: {bad}"
    errors = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
    assert errors == [], f"{name}: console errors: {errors}"


def check_matrix(d, name, doc):
    accounts, rules, cells = expected(doc)
    m = matrix(d)
    assert sorted(m["rules"]) == rules, f"{name}: columns {m['rules']} != rules {rules}"
    shown = [r["account"] for r in m["rows"]]
    assert sorted(shown) == accounts, f"{name}: {len(shown)} rows for {len(accounts)} accounts"
    n = 0
    for row in m["rows"]:
        assert len(row["cells"]) == len(m["rules"]), f"{name}: row {row['account']} has {len(row['cells'])} cells"
        for rule, cls in zip(m["rules"], row["cells"]):
            want = "v-" + cells[(row["account"], rule)] if (row["account"], rule) in cells else "v-none"
            assert cls == want, f"{name}: {row['account']} {rule}: class {cls!r}, JSON says {want!r}"
            n += 1
    return n


def score(cells, account, rules):
    vs = [cells.get((account, r)) for r in rules]
    return vs.count("fail") * 1000 + vs.count("unknown")


def order_in_groups(d):
    """Row accounts in page order, group by group."""
    return d.execute_script("""
      return [...document.querySelectorAll('#matrix tbody')].map(g =>
        [...g.querySelectorAll('tr[data-i]')].filter(tr => !tr.hidden).map(tr => tr.dataset.account));
    """)


def click_sort(d, key):
    d.find_element(By.CSS_SELECTOR, f'#matrix button.sort[data-key="{key}"]').click()


def check_sort(d, name, doc):
    accounts, rules, cells = expected(doc)
    click_sort(d, "problems")
    for group in order_in_groups(d):
        scores = [score(cells, a, rules) for a in group]
        assert scores == sorted(scores, reverse=True), f"{name}: not worst first: {list(zip(group, scores))}"
    click_sort(d, "account")
    for group in order_in_groups(d):
        assert group == sorted(group), f"{name}: not by account: {group}"
    click_sort(d, "account")
    for group in order_in_groups(d):
        assert group == sorted(group, reverse=True), f"{name}: not by account, descending: {group}"
    col = d.execute_script("return [...document.querySelectorAll('#matrix thead th.rule')].map(th => th.dataset.rule)")
    rank = {"fail": 2, "unknown": 1, "pass": 0}
    i = col.index("CWL-014")
    click_sort(d, str(i))
    for group in order_in_groups(d):
        ranks = [rank.get(cells.get((a, "CWL-014")), -1) for a in group]
        assert ranks == sorted(ranks, reverse=True), f"{name}: CWL-014 column not worst first: {ranks}"
    th = d.find_element(By.CSS_SELECTOR, f'#matrix thead th.rule[data-rule="CWL-014"]')
    assert th.get_attribute("aria-sort") == "descending"


def set_filter(d, q="", show="all", rule=""):
    box = d.find_element(By.ID, "q")
    box.clear()
    if q:
        box.send_keys(q)
    Select(d.find_element(By.ID, "show")).select_by_value(show)
    sel = Select(d.find_element(By.ID, "rule"))
    if rule:
        sel.select_by_visible_text(rule)
    else:
        sel.select_by_value("")


def visible(d):
    return sorted(r["account"] for r in matrix(d)["rows"])


def check_filter(d, name, doc):
    accounts, rules, cells = expected(doc)
    some = accounts[len(accounts) // 2]
    set_filter(d, q=some)
    assert visible(d) == [some], f"{name}: search {some}: {visible(d)}"
    set_filter(d, show="fail")
    want = sorted(a for a in accounts if any(cells.get((a, r)) == "fail" for r in rules))
    assert visible(d) == want, f"{name}: fail filter: {visible(d)} != {want}"
    set_filter(d, show="problem", rule="CWL-014")
    want = sorted(a for a in accounts if cells.get((a, "CWL-014")) in ("fail", "unknown"))
    assert visible(d) == want, f"{name}: CWL-014 fail or unknown: {visible(d)} != {want}"
    set_filter(d, show="pass")
    want = sorted(a for a in accounts if all(cells.get((a, r)) == "pass" for r in rules))
    assert visible(d) == want, f"{name}: pass filter: {visible(d)} != {want}"
    shown = d.find_element(By.ID, "shown").text
    assert shown == f"Showing {len(want)} of {len(accounts)} account{'s' if len(accounts) != 1 else ''}", shown
    set_filter(d)
    assert visible(d) == accounts


def open_account(d, account):
    d.find_element(By.CSS_SELECTOR, f'#matrix tr[data-account="{account}"] button.acct').click()
    WebDriverWait(d, 10).until(
        lambda d: d.find_element(By.ID, "detail").get_attribute("data-account") == account)


def check_broken_link(d, name, doc, rule="CWL-014"):
    """The first account failing `rule` beyond the trail: its card draws the proven links, then
    the broken one highlighted, then the links never reached; message and file:line shown."""
    fails = [r for r in doc["results"] if r["rule_id"] == rule and r["verdict"] == "fail"]
    assert fails, f"{name}: no failing {rule}"
    f = max(fails, key=lambda r: len(r["chain"]))
    open_account(d, f["account_id"])
    card = d.execute_script("""
      const card = [...document.querySelectorAll('#detail .card')].find(c => c.dataset.rules.split(' ').includes(arguments[0]));
      if (!card) return null;
      const nodes = [...card.querySelectorAll('.node')].map(n => ({link: n.dataset.link, state: n.className.replace('node ', '')}));
      const broken = card.querySelector('.node.broken');
      const ok = card.querySelector('.node.ok');
      return {
        nodes, verdict: card.dataset.verdict,
        message: card.querySelector('.message').textContent,
        where: (card.querySelector('.where') || {}).textContent || '',
        broken_border: broken && getComputedStyle(broken).borderTopColor,
        ok_border: ok && getComputedStyle(ok).borderTopColor,
        broken_flag: broken && broken.querySelector('.flag').textContent,
      };
    """, rule)
    assert card, f"{name}: no card for {rule} of {f['account_id']}"
    states = [n["state"] for n in card["nodes"]]
    links = [n["link"] for n in card["nodes"]]
    k = len(f["chain"])
    assert states[:k] == ["ok"] * k, f"{name}: proven links {card['nodes']}"
    assert states[k] == "broken" and links[k] == f["link"], f"{name}: broken link {card['nodes']} (JSON: {f['link']})"
    assert all(s == "unreached" for s in states[k + 1:]), f"{name}: after the break {card['nodes']}"
    assert card["verdict"] == "fail"
    assert card["message"] == clean(f["message"]), f"{name}: message {card['message']!r}"
    loc = f["location"]
    assert card["where"].startswith(f"{loc['path']}:{loc['line']}"), f"{name}: where {card['where']!r}"
    assert card["broken_flag"] == "broken link"
    assert card["broken_border"] == "rgb(179, 38, 30)", f"{name}: broken border {card['broken_border']}"
    assert card["broken_border"] != card["ok_border"]
    return f


def check_cell_click(d, name, doc):
    """A cell opens its account at that rule's card."""
    accounts, rules, cells = expected(doc)
    account, rule = next((a, r) for (a, r), v in sorted(cells.items()) if v == "unknown") if "unknown" in cells.values() \
        else next(iter(sorted(cells)))
    col = d.execute_script("return [...document.querySelectorAll('#matrix thead th.rule')].map(th => th.dataset.rule)")
    cell = d.find_elements(By.CSS_SELECTOR, f'#matrix tr[data-account="{account}"] td')[col.index(rule)]
    cell.click()
    WebDriverWait(d, 10).until(
        lambda d: d.find_element(By.ID, "detail").get_attribute("data-account") == account)
    found = d.execute_script("""
      return [...document.querySelectorAll('#detail .card')].some(c => c.dataset.rules.split(' ').includes(arguments[0]));
    """, rule)
    assert found, f"{name}: clicking {account} {rule} shows no card for it"


def screenshot(d, path, height=None):
    total = d.execute_script("return document.documentElement.scrollHeight")
    d.set_window_size(1280, min(height or total, 6000))
    d.save_screenshot(path)
    d.set_window_size(1280, 900)


def main():
    spec = json.load(open(sys.argv[1]))
    shots = spec["screenshots"]
    summary = {}
    d = browser()
    try:
        for r in spec["reports"]:
            name = r["name"]
            doc = json.load(open(r["json"]))
            started = time.monotonic()
            load(d, r["html"])
            loaded = time.monotonic() - started
            check_safe(d, name)
            cells = check_matrix(d, name, doc)
            summary[name] = {"bytes": r["bytes"], "cells": cells, "load_seconds": round(loaded, 2)}
            accounts, _, verdicts = expected(doc)
            if len(accounts) > 1:
                check_sort(d, name, doc)
                check_filter(d, name, doc)
                check_cell_click(d, name, doc)
            if any(v == "fail" for (a, rule), v in verdicts.items() if rule == "CWL-014"):
                f = check_broken_link(d, name, doc)
                summary[name]["broken_link"] = [f["account_id"], f["link"]]
            check_safe(d, name + " after use")
            if name == "demo":
                # The README's picture: the matrix and the account failing at its alarm.
                d.execute_script("window.scrollTo(0, 0)")
                d.set_window_size(1280, 1500)
                open_account(d, "333333333333")
                d.execute_script("window.scrollTo(0, 0); document.querySelector('#problems').open = false;")
                d.save_screenshot(os.path.join(shots, "demo.png"))
                d.set_window_size(1280, 900)
            if name == "org-300":
                groups = d.execute_script(
                    "return [...document.querySelectorAll('#matrix tbody')].map(g => g.dataset.ou)")
                assert groups == ["Root/Sandbox", "Root/Security", "Root/Workloads/Dev", "Root/Workloads/Prod"], groups
                set_filter(d, q="root/sandbox")
                assert len(visible(d)) == 75, len(visible(d))
                hidden = d.execute_script(
                    "return [...document.querySelectorAll('#matrix tbody')].filter(g => g.hidden).length")
                assert hidden == 3, f"org-300: {hidden} OU groups hidden, 3 expected"
                set_filter(d)
                d.execute_script("window.scrollTo(0, 0)")
                d.save_screenshot(os.path.join(shots, "org-300.png"))
            if name == "hostile":
                h = spec["hostile"]
                open_account(d, h["account"])
                d.execute_script("document.querySelectorAll('#detail details').forEach(e => e.open = true)")
                # HTML collapses runs of white space, and a hidden character is one now.
                words = lambda s: " ".join(s.split())
                text = words(d.execute_script("return document.body.innerText"))
                for t in h["texts"]:
                    assert words(clean(t)) in text, f"hostile: {words(clean(t))!r} is not shown as text"
                row = d.find_element(By.CSS_SELECTOR, f'#matrix tr[data-account="{h["account"]}"] .name')
                assert row.text == words(clean(h["texts"][2])), row.text
                check_safe(d, "hostile, every detail open")
                screenshot(d, os.path.join(shots, "hostile.png"))
    finally:
        d.quit()
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
