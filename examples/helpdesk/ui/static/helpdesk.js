// The helpdesk's pages load their data from the JSON API and write it into
// the page as text, never as HTML. The script comes last in each page and
// fills whichever page it finds.
(function () {
  "use strict";

  // api GETs a path of the JSON API and resolves to its envelope; an
  // HTTP error or a non-zero code rejects with a message for the agent.
  function api(path) {
    return fetch(path, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          if (r.status === 401) {
            throw new Error("登录已过期，请刷新页面 Your session has ended: reload the page to sign in again.");
          }
          if (!r.ok || body.code) {
            var msg = body.message || body.error || r.statusText;
            if (body.request_id) {
              msg += " (request id " + body.request_id + ")";
            }
            throw new Error("HTTP " + r.status + ": " + msg);
          }
          return body;
        });
      });
  }

  function byId(id) { return document.getElementById(id); }

  // text shows a value, or a dash when the record has none.
  function text(el, value) {
    el.textContent = value === undefined || value === null || value === "" ? "—" : String(value);
    return el;
  }

  function cell(row, value) { text(row.insertCell(), value); }

  function done(main) { main.setAttribute("aria-busy", "false"); }

  function failed(main) {
    return function (err) {
      text(byId("error"), err.message).hidden = false;
      done(main);
    };
  }

  // customerList fills the customer list page.
  function customerList() {
    var main = byId("customers");
    var params = new URLSearchParams(location.search);
    var page = Number(params.get("page")) || 1;
    var q = params.get("q") || "";
    byId("q").value = q;
    var go = function (p) {
      params.set("page", p);
      location.search = params.toString();
    };
    api("/api/customers?" + new URLSearchParams({q: q, page: page, pageSize: 20}))
      .then(function (res) {
        var rows = byId("rows");
        res.data = res.data || [];
        res.data.forEach(function (c) {
          var row = rows.insertRow();
          var link = document.createElement("a");
          link.href = "/customers/" + encodeURIComponent(c.id);
          link.textContent = c.id;
          row.insertCell().appendChild(link);
          cell(row, c.name);
          cell(row, c.mobile);
          cell(row, c.email);
          cell(row, c.vipLevel);
        });
        var pages = Math.max(1, Math.ceil(res.total / res.pageSize));
        text(byId("page-info"), "第 " + page + " / " + pages + " 页，共 " + res.total + " 位客户");
        byId("prev").disabled = page <= 1;
        byId("next").disabled = page >= pages;
        byId("prev").onclick = function () { go(page - 1); };
        byId("next").onclick = function () { go(page + 1); };
        done(main);
      })
      .catch(failed(main));
  }

  var profile = ["mobile", "phone", "idCard", "bankCard", "email", "address", "birthday",
    "gender", "plate", "vipLevel", "createdAt", "note"];

  // customerPage fills a customer's page: profile, orders and tickets.
  function customerPage() {
    var main = byId("customer");
    var id = encodeURIComponent(main.dataset.id);
    Promise.all([api("/api/customers/" + id), api("/api/tickets?customer=" + id)])
      .then(function (res) {
        var c = res[0].data;
        text(byId("name"), c.name);
        profile.forEach(function (f) { text(byId(f), c[f]); });
        var orders = byId("orders");
        (c.orders || []).forEach(function (o) {
          var row = orders.insertRow();
          cell(row, o.orderNo);
          cell(row, o.amount);
          cell(row, o.trackingNo);
          cell(row, o.status);
          cell(row, o.createdAt);
        });
        var tickets = byId("tickets");
        (res[1].data || []).forEach(function (t) {
          var article = document.createElement("article");
          article.className = "ticket";
          text(article.appendChild(document.createElement("h3")),
            "工单 #" + t.id + " · " + t.channel + " · " + t.createdAt + " · " + t.status);
          text(article.appendChild(document.createElement("pre")), t.content);
          tickets.appendChild(article);
        });
        done(main);
      })
      .catch(failed(main));
  }

  if (byId("customer")) {
    customerPage();
  } else if (byId("customers")) {
    customerList();
  }
})();
