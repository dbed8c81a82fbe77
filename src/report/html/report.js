// cwl-audit HTML report: sorting and filtering the matrix, and each account's chains drawn from the
// data block (src/report/html.rs inlines this file; the page's CSP allows it by hash).
// The data comes from snapshots and policies and is untrusted: everything is shown with
// textContent and element properties, never parsed as markup (no innerHTML anywhere).
(function () {
  "use strict";
  var data;
  try {
    data = JSON.parse(document.getElementById("cwl-data").textContent);
  } catch (e) {
    return; // A report without its data still shows the matrix, which is plain HTML.
  }
  var S = data.strings;
  var VERDICTS = ["pass", "unknown", "fail"];
  var str = function (i) { return i >= 0 && i < S.length ? S[i] : null; };

  // Findings by account index; a link's [key, value, ...] pairs back into an object.
  var byAccount = data.accounts.map(function () { return []; });
  data.findings.forEach(function (f) {
    var chain = f[10].map(function (pairs) {
      var o = {};
      for (var k = 0; k + 1 < pairs.length; k += 2) o[str(pairs[k])] = str(pairs[k + 1]);
      return o;
    });
    var x = {
      rule: f[0], account: f[1], code: f[2], verdict: VERDICTS[f[2]], message: str(f[3]),
      link: str(f[4]), resource: str(f[5]), path: str(f[6]), line: f[7], pointer: str(f[8]),
      region: str(f[9]), chain: chain, notes: f[11].map(str)
    };
    if (byAccount[x.account]) byAccount[x.account].push(x);
  });
  // The worst verdict code per account and rule (-1: none), for sorting and filtering.
  var codes = data.accounts.map(function (_, i) {
    var row = data.rules.map(function () { return -1; });
    byAccount[i].forEach(function (f) { row[f.rule] = Math.max(row[f.rule], f.code); });
    return row;
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // ------------------------------------------------------------------ filter and sort
  var table = document.getElementById("matrix");
  var groups = Array.prototype.slice.call(table.tBodies);
  var rows = Array.prototype.slice.call(table.querySelectorAll("tr[data-i]"));
  var q = document.getElementById("q");
  var show = document.getElementById("show");
  var ruleSel = document.getElementById("rule");
  var shown = document.getElementById("shown");

  function text(i) {
    var a = data.accounts[i];
    return [a.id, a.name || "", a.ou || ""].join(" ").toLowerCase();
  }

  function keep(i) {
    var needle = q.value.trim().toLowerCase();
    if (needle && text(i).indexOf(needle) < 0) return false;
    var mode = show.value;
    if (mode === "all") return true;
    var cs = ruleSel.value === "" ? codes[i] : [codes[i][Number(ruleSel.value)]];
    var some = function (p) { return cs.some(p); };
    if (mode === "problem") return some(function (c) { return c >= 1; });
    if (mode === "fail") return some(function (c) { return c === 2; });
    if (mode === "unknown") return some(function (c) { return c === 1; });
    if (mode === "pass") return cs.length > 0 && cs.every(function (c) { return c === 0; });
    return true;
  }

  function filter() {
    var visible = 0;
    rows.forEach(function (tr) {
      var on = keep(Number(tr.dataset.i));
      tr.hidden = !on;
      if (on) visible += 1;
    });
    groups.forEach(function (g) {
      var mine = Array.prototype.slice.call(g.querySelectorAll("tr[data-i]"));
      var on = mine.filter(function (tr) { return !tr.hidden; });
      var failing = on.filter(function (tr) { return codes[Number(tr.dataset.i)].indexOf(2) >= 0; });
      g.hidden = on.length === 0;
      var n = g.querySelector("tr.ou .n");
      if (n) n.textContent = on.length + " of " + mine.length + " accounts shown, " + failing.length + " with a fail";
    });
    shown.textContent = "Showing " + visible + " of " + rows.length + " account" + (rows.length === 1 ? "" : "s");
  }

  var sortKey = null;
  var sortDir = 1;
  function sortValue(i, key) {
    if (key === "account") return data.accounts[i].id;
    var cs = codes[i];
    if (key === "problems") {
      var f = cs.filter(function (c) { return c === 2; }).length;
      var u = cs.filter(function (c) { return c === 1; }).length;
      return f * 1000 + u;
    }
    return cs[Number(key)];
  }

  function sortBy(key, button) {
    // First click: accounts A-Z, verdict columns worst first; a second click reverses.
    if (sortKey === key) sortDir = -sortDir;
    else sortDir = key === "account" ? 1 : -1;
    sortKey = key;
    table.querySelectorAll("thead th").forEach(function (th) { th.removeAttribute("aria-sort"); });
    button.parentNode.setAttribute("aria-sort", sortDir === 1 ? "ascending" : "descending");
    groups.forEach(function (g) {
      var mine = Array.prototype.slice.call(g.querySelectorAll("tr[data-i]"));
      mine.sort(function (a, b) {
        var i = Number(a.dataset.i), j = Number(b.dataset.i);
        var x = sortValue(i, key), y = sortValue(j, key);
        if (x < y) return -sortDir;
        if (x > y) return sortDir;
        // Ties in account order, whichever way the column runs.
        return data.accounts[i].id < data.accounts[j].id ? -1 : 1;
      });
      mine.forEach(function (tr) { g.appendChild(tr); });
    });
  }

  table.querySelectorAll("button.sort").forEach(function (b) {
    b.addEventListener("click", function () { sortBy(b.dataset.key, b); });
  });
  [q, show, ruleSel].forEach(function (c) {
    c.addEventListener("input", filter);
    c.addEventListener("change", filter);
  });

  // ------------------------------------------------------------------ the chain as a picture
  var ORDER = ["trail", "log_group", "filter", "metric", "alarm", "topic", "subscription"];
  var KIND = {
    trail: "Trail", log_group: "Log group", filter: "Metric filter", metric: "Metric",
    alarm: "Alarm", topic: "SNS topic", subscription: "Subscription"
  };

  function shortName(resource) {
    if (!resource) return "";
    if (resource.indexOf("arn:") !== 0) return resource;
    var rest = resource.split(":").slice(5).join(":");
    return rest.replace(/^(alarm:|trail\/|log-group:)/, "").replace(/:\*$/, "");
  }

  function plural(n, word) { return n + " " + word + (String(n) === "1" ? "" : "s"); }

  // What a proven link shows: its name, and a line of context.
  function describe(l) {
    switch (l.link) {
      case "trail":
        return [l.name, l.organization === "true" ? "organization trail of " + l.account : [l.account, l.home_region].filter(Boolean).join(" · ")];
      case "log_group": return [l.name, [l.account, l.region].filter(Boolean).join(" · ")];
      case "filter": return [l.name, l.pattern && l.pattern.length > 90 ? l.pattern.slice(0, 88) + "…" : l.pattern];
      case "metric": return [(l.namespace ? l.namespace + "/" : "") + (l.name || ""), l.value ? "value " + l.value : ""];
      case "alarm": return [l.name, l.region];
      case "topic": return [l.name, l.confirmed_subscriptions ? plural(l.confirmed_subscriptions, "confirmed subscription") : ""];
      default:
        var rest = Object.keys(l).filter(function (k) { return k !== "link" && k !== "name"; })
          .map(function (k) { return k + "=" + l[k]; }).join(" ");
        return [l.name || l.arn || l.link, rest];
    }
  }

  // The boxes of one finding: the proven links, then (unless it passes) the broken one and the
  // standard links after it, which the policy never reached. The bundled policies prove the topic
  // and its confirmed subscription as one link (`topic`); the subscription gets its own box.
  function nodes(f) {
    var out = f.chain.map(function (l) {
      var d = describe(l);
      return { link: l.link, state: "ok", what: d[0], sub: d[1], title: l.arn || l.pattern || "" };
    });
    var topic = f.chain.filter(function (l) { return l.link === "topic"; })[0];
    if (topic && topic.confirmed_subscriptions && Number(topic.confirmed_subscriptions) > 0) {
      out.push({ link: "subscription", state: "ok", what: plural(topic.confirmed_subscriptions, "confirmed subscription"), sub: "", title: "" });
    }
    if (f.verdict !== "pass") {
      var link = f.link || "unknown link";
      out.push({
        link: link, state: f.verdict === "fail" ? "broken" : "unverified",
        what: shortName(f.resource) || "missing", sub: f.resource && shortName(f.resource) !== f.resource ? f.resource : "",
        title: f.message || ""
      });
      var at = ORDER.indexOf(link);
      if (at >= 0) {
        ORDER.slice(at + 1).forEach(function (l) {
          out.push({ link: l, state: "unreached", what: "not reached", sub: "", title: "" });
        });
      }
    }
    return out;
  }

  function picture(f) {
    var ol = el("ol", "chain");
    ol.setAttribute("aria-label", "chain");
    nodes(f).forEach(function (n) {
      var li = el("li");
      var box = el("div", "node " + n.state);
      box.dataset.link = n.link;
      box.appendChild(el("span", "kind", KIND[n.link] || n.link));
      if (n.state === "broken") box.appendChild(el("span", "flag", "broken link"));
      if (n.state === "unverified") box.appendChild(el("span", "flag", "could not be checked"));
      box.appendChild(el("span", "what", n.what));
      if (n.sub) box.appendChild(el("span", "sub", n.sub));
      if (n.title) box.title = n.title;
      li.appendChild(box);
      ol.appendChild(li);
    });
    return ol;
  }

  // ------------------------------------------------------------------ remediation text
  // The METADATA remediation is Markdown; only what it uses is rendered: paragraphs, fenced code
  // blocks and `inline code`, each built as elements with text content.
  function markdown(source, into) {
    var lines = source.split("\n");
    var para = [];
    var flush = function () {
      if (!para.length) return;
      var p = el("p");
      para.join(" ").split("`").forEach(function (part, k) {
        p.appendChild(k % 2 ? el("code", null, part) : document.createTextNode(part));
      });
      into.appendChild(p);
      para = [];
    };
    for (var i = 0; i < lines.length; i++) {
      if (/^\s*```/.test(lines[i])) {
        flush();
        var code = [];
        for (i += 1; i < lines.length && !/^\s*```/.test(lines[i]); i++) code.push(lines[i]);
        var pre = el("pre");
        pre.appendChild(el("code", null, code.join("\n")));
        into.appendChild(pre);
      } else if (/^\s*$/.test(lines[i])) {
        flush();
      } else {
        // A numbered or bulleted line starts a paragraph of its own.
        if (/^\s*(\d+\.|[-*])\s/.test(lines[i])) flush();
        para.push(lines[i].trim());
      }
    }
    flush();
  }

  // ------------------------------------------------------------------ account details
  var detail = document.getElementById("detail");

  // One card per cause: findings of several rules with the same verdict, message, place and
  // chain (a trail that is not logging breaks all fifteen rules) are one card naming the rules.
  function causes(findings) {
    var out = [];
    var seen = {};
    findings.forEach(function (f) {
      var key = JSON.stringify([f.code, f.message, f.link, f.resource, f.path, f.line, f.chain]);
      if (seen[key]) seen[key].rules.push(f.rule);
      else out.push(seen[key] = { f: f, rules: [f.rule] });
    });
    return out;
  }

  function remediation(rule) {
    var d = el("details", "remediation");
    d.appendChild(el("summary", null, "Remediation of " + rule.id));
    if (rule.action) d.appendChild(el("p", null, rule.action));
    if (rule.remediation) markdown(rule.remediation, d);
    return d;
  }

  function card(cause) {
    var f = cause.f;
    var rules = cause.rules.map(function (r) { return data.rules[r] || { id: "?", title: "" }; });
    var c = el("article", "card " + f.verdict);
    c.dataset.rules = rules.map(function (r) { return r.id; }).join(" ");
    c.dataset.verdict = f.verdict;
    cause.rules.forEach(function (r) { c.classList.add("rule-" + r); });
    var h = el("header");
    h.appendChild(el("span", "badge v-" + f.verdict, f.verdict));
    if (rules.length === 1) {
      h.appendChild(el("h3", null, rules[0].id + " · " + rules[0].title));
      if (rules[0].severity) h.appendChild(el("span", "muted", rules[0].severity));
    } else {
      h.appendChild(el("h3", null, rules.length + " rules: " + rules.map(function (r) { return r.id; }).join(", ")));
    }
    c.appendChild(h);
    c.appendChild(picture(f));
    c.appendChild(el("p", "message", f.verdict === "unknown" ? "Could not be verified: " + f.message : f.message));
    if (f.path) {
      var where = el("p", "where");
      where.appendChild(el("span", "mono", f.path + ":" + f.line));
      if (f.pointer) where.appendChild(document.createTextNode(" at " + f.pointer));
      c.appendChild(where);
    }
    if (f.notes.length) {
      var ul = el("ul", "notes");
      f.notes.forEach(function (n) { ul.appendChild(el("li", null, n)); });
      c.appendChild(ul);
    }
    if (f.verdict !== "pass") {
      var fixable = rules.filter(function (r) { return r.action || r.remediation; });
      if (fixable.length === 1) c.appendChild(remediation(fixable[0]));
      if (fixable.length > 1) {
        // Each rule's own steps, folded twice: the shared cause above is what to fix first.
        var all = el("details", "remediation");
        all.appendChild(el("summary", null, "Remediation steps of the " + fixable.length + " rules"));
        fixable.forEach(function (r) { all.appendChild(remediation(r)); });
        c.appendChild(all);
      }
    }
    if (rules.length === 1 && rules[0].controls && rules[0].controls.length) {
      c.appendChild(el("p", "muted", rules[0].controls.join(" · ")));
    }
    return c;
  }

  function showAccount(i, focusRule) {
    var a = data.accounts[i];
    if (!a) return;
    rows.forEach(function (tr) { tr.classList.toggle("selected", Number(tr.dataset.i) === i); });
    detail.textContent = "";
    detail.hidden = false;
    detail.dataset.account = a.id;
    detail.appendChild(el("h2", null, "Account " + a.id + (a.name ? " (" + a.name + ")" : "")));
    if (a.ou) detail.appendChild(el("p", "muted", "OU " + a.ou));
    var mine = byAccount[i].slice().sort(function (x, y) { return y.code - x.code || x.rule - y.rule; });
    var counts = [0, 0, 0];
    mine.forEach(function (f) { counts[f.code] += 1; });
    detail.appendChild(el("p", null, counts[2] + " fail, " + counts[1] + " unknown, " + counts[0] + " pass"));
    if (a.remediate) {
      detail.appendChild(el("p", null, "The missing pieces of this account's failing rules, " +
        "as AWS CLI commands to review (cwl-audit never runs them):"));
      detail.appendChild(el("pre", "cmd", a.remediate));
    }
    var problems = mine.filter(function (f) { return f.code > 0; });
    var passes = mine.filter(function (f) { return f.code === 0; });
    causes(problems).forEach(function (c) { detail.appendChild(card(c)); });
    if (passes.length) {
      var d = el("details", "passes");
      d.appendChild(el("summary", null, plural(passes.length, "passing rule") + ": complete chains"));
      causes(passes).forEach(function (c) { d.appendChild(card(c)); });
      if (focusRule !== undefined && passes.some(function (f) { return f.rule === focusRule; })) d.open = true;
      detail.appendChild(d);
    }
    var target = focusRule !== undefined && detail.querySelector(".card.rule-" + focusRule);
    (target || detail).scrollIntoView({ block: "start" });
    if (location.hash !== "#account-" + a.id) history.replaceState(null, "", "#account-" + a.id);
  }

  table.addEventListener("click", function (ev) {
    var tr = ev.target.closest("tr[data-i]");
    if (!tr) return;
    var i = Number(tr.dataset.i);
    var td = ev.target.closest("td");
    if (td && !td.classList.contains("count")) showAccount(i, td.cellIndex - 1);
    else if (ev.target.closest("button.acct")) showAccount(i);
  });

  filter();
  var m = /^#account-(\d+)$/.exec(location.hash);
  if (m) {
    var found = data.accounts.map(function (a) { return a.id; }).indexOf(m[1]);
    if (found >= 0) showAccount(found);
  }
})();
