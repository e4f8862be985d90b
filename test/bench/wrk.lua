-- wrk script of test/bench/run: asks for JSON like the helpdesk's browser
-- code does, and prints the figures as one key=value line that the run
-- script can read without parsing wrk's human-readable units.
wrk.headers["Accept"] = "application/json"

done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"requests=%d duration_us=%d bytes=%d errors=%d non2xx=%d p50_us=%d p99_us=%d\n",
		summary.requests, summary.duration, summary.bytes,
		e.connect + e.read + e.write + e.timeout, e.status,
		latency:percentile(50), latency:percentile(99)))
end
