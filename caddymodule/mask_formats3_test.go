// Found by the fourteenth review (each failed before its fix).

package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

// R9-1: the new JSONP refusal takes every script that starts NAME([ or
// NAME({ and ends ")" for a JSONP call: AMD modules, RequireJS mains,
// webpack 1–3 chunks, jQuery.extend({...}). On any route with the default
// scan (names) a 2xx script is now a 502, though the README says scripts
// are content-scanned either way.
func TestScriptsNotJSONP(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent"}) // defaults: scan names, no field rules
	for _, body := range []string{
		`define(["jquery", "app/util"], function ($, util) { return { init: function () { $("#x").show(); } }; });`,
		`require(["app/main"], function (main) { main.start(); });`,
		`webpackJsonp([1],{12:function(e,t,n){"use strict";e.exports=n(3)}});`,
		`jQuery.extend({ debug: false });`,
	} {
		rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/static/app.js", nil), upstreamAnswer("application/javascript", body))
		if rec.Code != http.StatusOK {
			o := vars[varOutcome].(*Outcome)
			t.Errorf("%.45q: %d (reason %s, format %s), want 200 content-scanned", body, rec.Code, o.Reason, o.Format)
		}
	}
}

// R9-2: a Content-Disposition that mime.ParseMediaType rejects, or whose
// filename* it cannot decode, names no file for dataFile, and the CSV
// passes content-scanned only; browsers save each of these as a .csv.
func TestDispositionParseFailures(t *testing.T) {
	fields := []config.Field{{Path: "data.#.name", Type: "person_name"}}
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Fields: fields})
	for _, cd := range []string{
		"attachment;filename=客户.csv",                      // Java's new String(name.getBytes("UTF-8"), "ISO8859-1"): raw UTF-8, unquoted
		`attachment; filename=customer list.csv`,          // unquoted, with a space
		`attachment; filename*=ISO-8859-1''customers.csv`, // RFC 5987/6266 charset every browser reads
		`attachment; filename="report.txt"; filename*=ISO-8859-1''customers.csv`,
		`attachment; filename*=GBK''%BF%CD%BB%A7.csv`,
		`attachment; filename=customers.csv;;`,
	} {
		rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/customers?format=csv", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "application/octet-stream")
				w.Header().Set("Content-Disposition", cd)
				_, err := w.Write([]byte("id,name,address\n1,张三,北京市朝阳区建国路88号\n"))
				return err
			})
		if rec.Code != http.StatusBadGateway || strings.Contains(rec.Body.String(), "张三") {
			t.Errorf("%s: %d (format %q), want a 502 (data_format)", cd, rec.Code, vars[varOutcome].(*Outcome).Format)
		}
	}
}

// R9-3: the allow-list in dataFormat omits JavaScript MIME types browsers
// run as scripts (WHATWG "JavaScript MIME type essence match") and IE's
// HTC behaviours: a 2xx script under them is now a 502.
func TestScriptTypesNotData(t *testing.T) {
	fields := []config.Field{{Path: "data.#.name", Type: "person_name"}}
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Fields: fields})
	for _, ct := range []string{"text/x-ecmascript", "text/javascript1.5", "text/livescript", "text/x-component"} {
		rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/x", nil),
			upstreamAnswer(ct, "var tel = '13812345678';\n"))
		if rec.Code != http.StatusOK {
			t.Errorf("%s: %d (reason %s), want 200 content-scanned", ct, rec.Code, vars[varOutcome].(*Outcome).Reason)
		}
	}
}
