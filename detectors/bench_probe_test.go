package detectors
import ("testing";"strings")
func BenchmarkProbe(b *testing.B) {
	text := strings.Repeat("您好，订单号SF0966542870722已于2026-11-27 12:30:45发货，金额 26815.58 元，trace=202610004143167231, version v15.1.10, uuid 4ec04618-f54f-4287-44b6-adeb344c9131. Customer says the parcel 1672771329845 is late; ticket TK51292212195 escalated. 客户的手机号是13812345678，请尽快回电。The quick brown fox jumps over the lazy dog while the agent reviews the refund request for the customer in detail. ", 50)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	var fs []Finding
	for i := 0; i < b.N; i++ { fs = Default.Scan(text, fs[:0]) }
}
