package detectorstest

// region is a county-level division (GB/T 2260 code) with the names used in
// addresses and the telephone area code of its city.
type region struct {
	code     string // six-digit administrative division code
	province string
	city     string // empty for the four municipalities
	district string
	area     string // telephone area code with its leading 0
}

// regions are real county-level divisions; their codes start resident IDs and
// their names build addresses, so an ID, an address and a landline of one
// customer agree with each other.
var regions = []region{
	{"110101", "北京市", "", "东城区", "010"},
	{"110102", "北京市", "", "西城区", "010"},
	{"110105", "北京市", "", "朝阳区", "010"},
	{"110106", "北京市", "", "丰台区", "010"},
	{"110108", "北京市", "", "海淀区", "010"},
	{"120101", "天津市", "", "和平区", "022"},
	{"120104", "天津市", "", "南开区", "022"},
	{"130102", "河北省", "石家庄市", "长安区", "0311"},
	{"130104", "河北省", "石家庄市", "桥西区", "0311"},
	{"140105", "山西省", "太原市", "小店区", "0351"},
	{"150102", "内蒙古自治区", "呼和浩特市", "新城区", "0471"},
	{"210102", "辽宁省", "沈阳市", "和平区", "024"},
	{"210202", "辽宁省", "大连市", "中山区", "0411"},
	{"220102", "吉林省", "长春市", "南关区", "0431"},
	{"230102", "黑龙江省", "哈尔滨市", "道里区", "0451"},
	{"310101", "上海市", "", "黄浦区", "021"},
	{"310104", "上海市", "", "徐汇区", "021"},
	{"310105", "上海市", "", "长宁区", "021"},
	{"310115", "上海市", "", "浦东新区", "021"},
	{"320102", "江苏省", "南京市", "玄武区", "025"},
	{"320106", "江苏省", "南京市", "鼓楼区", "025"},
	{"320506", "江苏省", "苏州市", "吴中区", "0512"},
	{"330102", "浙江省", "杭州市", "上城区", "0571"},
	{"330106", "浙江省", "杭州市", "西湖区", "0571"},
	{"330203", "浙江省", "宁波市", "海曙区", "0574"},
	{"340102", "安徽省", "合肥市", "瑶海区", "0551"},
	{"350102", "福建省", "福州市", "鼓楼区", "0591"},
	{"350203", "福建省", "厦门市", "思明区", "0592"},
	{"360102", "江西省", "南昌市", "东湖区", "0791"},
	{"370102", "山东省", "济南市", "历下区", "0531"},
	{"370202", "山东省", "青岛市", "市南区", "0532"},
	{"410105", "河南省", "郑州市", "金水区", "0371"},
	{"420102", "湖北省", "武汉市", "江岸区", "027"},
	{"420106", "湖北省", "武汉市", "武昌区", "027"},
	{"430104", "湖南省", "长沙市", "岳麓区", "0731"},
	{"430105", "湖南省", "长沙市", "开福区", "0731"},
	{"440103", "广东省", "广州市", "荔湾区", "020"},
	{"440104", "广东省", "广州市", "越秀区", "020"},
	{"440106", "广东省", "广州市", "天河区", "020"},
	{"440304", "广东省", "深圳市", "福田区", "0755"},
	{"440305", "广东省", "深圳市", "南山区", "0755"},
	{"450102", "广西壮族自治区", "南宁市", "兴宁区", "0771"},
	{"460105", "海南省", "海口市", "秀英区", "0898"},
	{"500103", "重庆市", "", "渝中区", "023"},
	{"500105", "重庆市", "", "江北区", "023"},
	{"510104", "四川省", "成都市", "锦江区", "028"},
	{"510107", "四川省", "成都市", "武侯区", "028"},
	{"520102", "贵州省", "贵阳市", "南明区", "0851"},
	{"530102", "云南省", "昆明市", "五华区", "0871"},
	{"540102", "西藏自治区", "拉萨市", "城关区", "0891"},
	{"610103", "陕西省", "西安市", "碑林区", "029"},
	{"610113", "陕西省", "西安市", "雁塔区", "029"},
	{"620102", "甘肃省", "兰州市", "城关区", "0931"},
	{"630102", "青海省", "西宁市", "城东区", "0971"},
	{"640104", "宁夏回族自治区", "银川市", "兴庆区", "0951"},
	{"650102", "新疆维吾尔自治区", "乌鲁木齐市", "天山区", "0991"},
}

// provinceCodes are the first two digits of GB/T 2260 codes: the provinces,
// autonomous regions and municipalities, Taiwan (71), Hong Kong (81), Macao
// (82), and 83, which residence permits for Taiwan residents use.
var provinceCodes = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true, "83": true,
}

// plateProvinces are the one-character province abbreviations that start a
// mainland licence plate.
const plateProvinces = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

// hkLetters are the single prefix letters seen on Hong Kong identity cards;
// hkPairs are two-letter prefixes.
var (
	hkLetters = "ABCDEFGHJKLMNPRSTVWYZ"
	hkPairs   = []string{"WX", "XA", "XB", "XC", "XD", "XE", "XG", "XH", "CA", "UH"}
)

// twLetterCodes maps the first letter of a Taiwan ID to its two-digit value.
var twLetterCodes = map[byte]int{
	'A': 10, 'B': 11, 'C': 12, 'D': 13, 'E': 14, 'F': 15, 'G': 16, 'H': 17,
	'I': 34, 'J': 18, 'K': 19, 'L': 20, 'M': 21, 'N': 22, 'O': 35, 'P': 23,
	'Q': 24, 'R': 25, 'S': 26, 'T': 27, 'U': 28, 'V': 29, 'W': 32, 'X': 30,
	'Y': 31, 'Z': 33,
}
