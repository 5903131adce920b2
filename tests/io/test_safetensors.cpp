// io/safetensors.h: round trips, every malformed-header rule, and interop with
// a file written by Python (tests/fixtures/io/make_safetensors_fixture.py).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "io/io_test_util.h"
#include "qkv/core/error.h"
#include "qkv/core/tensor.h"
#include "qkv/io/io.h"

using qkv::DType;
using qkv::Tensor;
using qkv::testing::expect_error;
using qkv::testing::ScratchDir;

namespace {

// A tensor of `dtype` holding `bytes` verbatim.
Tensor raw_tensor(const qkv::Shape& shape, DType dtype, const void* bytes) {
  Tensor t = Tensor::empty(shape, dtype);
  std::memcpy(t.raw_data(), bytes, t.numel() * qkv::dtype_size(dtype));
  return t;
}

std::string bytes_of(const Tensor& t) {
  Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.raw_data()), c.numel() * qkv::dtype_size(c.dtype()));
}

// The tensors of make_safetensors_fixture.py's EXPECTED table, minus "f16"
// (qkv has no F16 dtype to write).
std::vector<std::pair<std::string, Tensor>> expected_tensors() {
  const int64_t i64[] = {-(int64_t{1} << 40), -1, 0, (int64_t{1} << 53) + 1};
  const int32_t i32[] = {std::numeric_limits<int32_t>::min(), 7, std::numeric_limits<int32_t>::max()};
  const int8_t i8[] = {-128, 127};
  const uint8_t u8[] = {0, 128, 255};
  const uint8_t b[] = {1, 0, 0, 1};
  const uint16_t bf16[] = {0x3F80, 0xC020, 0x3E20, 0x4780};  // 1, -2.5, 0.15625, 65536
  return {{"f32", qkv::tensor({-1.0f, -0.75f, -0.5f, 0.0f, 0.25f, 1.5f}, {2, 3})},
          {"bf16", raw_tensor({4}, DType::BFloat16, bf16)},
          {"i64", raw_tensor({2, 2}, DType::Int64, i64)},
          {"i32", raw_tensor({3}, DType::Int32, i32)},
          {"i8", raw_tensor({2}, DType::Int8, i8)},
          {"u8", raw_tensor({3}, DType::UInt8, u8)},
          {"bool", raw_tensor({4}, DType::Bool, b)},
          {"scalar", qkv::scalar_tensor(3.25f)},
          {"empty", Tensor::empty({0, 4})}};
}

// Builds a safetensors file from a header text and a data section;
// `declared` overrides the header size field.
std::string st_file(const std::string& header, const std::string& data = "", int64_t declared = -1) {
  uint64_t n = declared >= 0 ? static_cast<uint64_t>(declared) : header.size();
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + header + data;
}

// Writes `bytes` and expects load_safetensors to throw an IOError naming the
// file and containing each of `parts`.
void expect_bad(const ScratchDir& d, const std::string& bytes, std::initializer_list<std::string> parts) {
  std::string p = d.file("bad.safetensors");
  qkv::testing::write_bytes(p, bytes);
  std::vector<std::string> all(parts);
  all.push_back("bad.safetensors");
  try {
    qkv::io::load_safetensors(p);
    ADD_FAILURE() << "loaded a corrupt file; expected an error mentioning '" << *parts.begin() << "'";
  } catch (const qkv::IOError& e) {
    std::string msg = e.what();
    for (const auto& s : all) EXPECT_NE(msg.find(s), std::string::npos) << "'" << s << "' not in: " << msg;
  }
}

}  // namespace

TEST(Safetensors, RoundTripEveryDtypeScalarAndEmpty) {
  ScratchDir d;
  std::string p = d.file("model.safetensors");
  auto tensors = expected_tensors();
  std::map<std::string, std::string> meta{{"format", "pt"}, {"note", "héllo \"quoted\""}};
  qkv::io::save_safetensors(p, tensors, meta);
  qkv::io::NamedTensors back = qkv::io::load_safetensors(p);
  EXPECT_EQ(back.metadata, meta);
  ASSERT_EQ(back.tensors.size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {  // file order == save order
    const auto& [name, t] = tensors[i];
    EXPECT_EQ(back.tensors[i].first, name);
    const Tensor& u = back.at(name);
    EXPECT_EQ(u.dtype(), t.dtype()) << name;
    EXPECT_EQ(u.shape(), t.shape()) << name;
    EXPECT_EQ(bytes_of(u), bytes_of(t)) << name;
  }
  EXPECT_EQ(back.at("scalar").dim(), 0);
  EXPECT_EQ(back.at("scalar").item(), 3.25f);
  EXPECT_EQ(back.at("i64").data<int64_t>()[3], (int64_t{1} << 53) + 1);
  EXPECT_TRUE(back.contains("empty"));
  EXPECT_FALSE(back.contains("nope"));
  EXPECT_THROW(back.at("nope"), qkv::IOError);
  // The header is padded so the data section starts 8-aligned.
  std::string raw = qkv::testing::read_bytes(p);
  uint64_t n = 0;
  std::memcpy(&n, raw.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(d.entries(), std::vector<std::string>{"model.safetensors"});
}

// Without the data (qkv info): the same names, file dtypes and metadata,
// undefined tensors; a file with a bad header is refused the same way.
TEST(Safetensors, HeaderOnlyReadGivesNamesAndDtypesAndStillValidates) {
  ScratchDir d;
  std::string p = d.file("model.safetensors");
  auto tensors = expected_tensors();
  qkv::io::save_safetensors(p, tensors, {{"format", "pt"}});
  const qkv::io::NamedTensors full = qkv::io::load_safetensors(p);
  const qkv::io::NamedTensors names = qkv::io::load_safetensors(p, /*read_data=*/false);
  EXPECT_EQ(names.metadata, full.metadata);
  EXPECT_EQ(names.file_dtypes, full.file_dtypes);
  ASSERT_EQ(names.tensors.size(), full.tensors.size());
  for (size_t i = 0; i < names.tensors.size(); ++i) {
    EXPECT_EQ(names.tensors[i].first, full.tensors[i].first);
    EXPECT_FALSE(names.tensors[i].second.defined());
  }
  std::string raw = qkv::testing::read_bytes(p);
  raw.resize(raw.size() - 1);  // the data section one byte short
  qkv::testing::write_bytes(p, raw);
  EXPECT_THROW((void)qkv::io::load_safetensors(p, false), qkv::IOError);
}

TEST(Safetensors, SavesNonContiguousAsRowMajorAndEmptyFile) {
  ScratchDir d;
  Tensor x = qkv::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  qkv::io::save_safetensors(d.file("t.safetensors"), {{"xt", x.t()}});
  Tensor back = qkv::io::load_safetensors(d.file("t.safetensors")).at("xt");
  EXPECT_EQ(back.shape(), (qkv::Shape{3, 2}));
  EXPECT_EQ(back.to_vector(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  qkv::io::save_safetensors(d.file("none.safetensors"), {});
  auto none = qkv::io::load_safetensors(d.file("none.safetensors"));
  EXPECT_TRUE(none.tensors.empty());
  EXPECT_TRUE(none.metadata.empty());
}

TEST(Safetensors, SaveRejectsBadNamesAndTensorsWithoutWriting) {
  ScratchDir d;
  std::string p = d.file("m.safetensors");
  Tensor x = qkv::tensor({1, 2});
  expect_error<qkv::ValueError>([&] { qkv::io::save_safetensors(p, {{"a", x}, {"a", x}}); }, {"'a'", "duplicate"});
  expect_error<qkv::ValueError>([&] { qkv::io::save_safetensors(p, {{"", x}}); }, {"empty tensor name"});
  expect_error<qkv::ValueError>([&] { qkv::io::save_safetensors(p, {{"__metadata__", x}}); }, {"reserved"});
  expect_error<qkv::ValueError>([&] { qkv::io::save_safetensors(p, {{"u", Tensor()}}); }, {"'u'", "undefined"});
  EXPECT_TRUE(d.entries().empty());
}

TEST(Safetensors, SaveToUnwritablePathLeavesNothing) {
  ScratchDir d;
  Tensor x = qkv::tensor({1, 2});
  expect_error<qkv::IOError>([&] { qkv::io::save_safetensors(d.file("no/dir/m.safetensors"), {{"x", x}}); },
                             {"cannot write", "no/dir/m.safetensors"});
  std::filesystem::create_directory(d.file("m.safetensors"));  // target is a directory: rename fails
  expect_error<qkv::IOError>([&] { qkv::io::save_safetensors(d.file("m.safetensors"), {{"x", x}}); },
                             {"cannot write", "m.safetensors"});
  EXPECT_EQ(d.entries(), std::vector<std::string>{"m.safetensors"});
  if (getuid() != 0) {  // root ignores permissions
    std::filesystem::create_directory(d.file("ro"));
    std::filesystem::permissions(d.file("ro"), std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    expect_error<qkv::IOError>([&] { qkv::io::save_safetensors(d.file("ro/m.safetensors"), {{"x", x}}); },
                               {"cannot write", "Permission denied"});
    std::filesystem::permissions(d.file("ro"), std::filesystem::perms::owner_all);
    EXPECT_TRUE(std::filesystem::is_empty(d.file("ro")));
  }
}

TEST(Safetensors, OverwriteKeepsOldFileUntilTheNewOneIsComplete) {
  ScratchDir d;
  std::string p = d.file("m.safetensors");
  qkv::io::save_safetensors(p, {{"x", qkv::tensor({1, 2})}});
  EXPECT_THROW(qkv::io::save_safetensors(p, {{"y", qkv::tensor({3})}, {"y", qkv::tensor({4})}}), qkv::ValueError);
  EXPECT_EQ(qkv::io::load_safetensors(p).at("x").to_vector(), (std::vector<float>{1, 2}));
  qkv::io::save_safetensors(p, {{"y", qkv::tensor({3})}});
  EXPECT_FALSE(qkv::io::load_safetensors(p).contains("x"));
}

TEST(Safetensors, MissingTooShortAndBadHeaderSize) {
  ScratchDir d;
  expect_error<qkv::IOError>([&] { qkv::io::load_safetensors(d.file("absent.safetensors")); },
                             {"cannot open", "absent.safetensors", "No such file"});
  expect_bad(d, "", {"0 bytes", "too short"});
  expect_bad(d, std::string("\x10\0\0", 3), {"3 bytes", "too short"});
  expect_bad(d, st_file("{}", "", 1000), {"header size 1000", "exceeds the 2 bytes"});
  expect_bad(d, st_file("{}", "", 200'000'000), {"header size 200000000", "100 MB"});
  expect_bad(d, st_file("{}", "", int64_t{1} << 62), {"100 MB"});
  expect_bad(d, st_file("", "", 0), {"header size 0", "too small"});
}

TEST(Safetensors, HeaderNotJsonObject) {
  ScratchDir d;
  expect_bad(d, st_file("{\"a\": "), {"not valid JSON"});
  expect_bad(d, st_file("garbage!"), {"does not start with '{'"});
  expect_bad(d, st_file("[1, 2]   "), {"does not start with '{'"});
  expect_bad(d, st_file("{} {}"), {"not valid JSON"});
  expect_bad(d, st_file(std::string("{\"a\xff\":1}")), {"not valid JSON"});
  std::string deep(100000, '[');  // nesting must not overflow the stack
  expect_bad(d, st_file("{\"a\":" + deep), {"nested deeper than 256 levels"});
  expect_bad(d, st_file("{\"a\":" + deep + std::string(100000, ']') + "}"), {"nested deeper than 256 levels"});
}

TEST(Safetensors, BadEntries) {
  ScratchDir d;
  auto one = [](const std::string& entry) { return "{\"w\":" + entry + "}"; };
  expect_bad(d, st_file(one("3")), {"tensor 'w'", "not an object"});
  expect_bad(d, st_file(one(R"({"shape":[1],"data_offsets":[0,4]})"), "abcd"), {"tensor 'w'", "'dtype'"});
  expect_bad(d, st_file(one(R"({"dtype":7,"shape":[1],"data_offsets":[0,4]})"), "abcd"), {"'dtype'"});
  expect_bad(d, st_file(one(R"({"dtype":"F64","shape":[1],"data_offsets":[0,8]})"), "abcdefgh"),
             {"tensor 'w'", "unsupported dtype 'F64'"});
  expect_bad(d, st_file(one(R"({"dtype":"F32","data_offsets":[0,4]})"), "abcd"), {"tensor 'w'", "'shape'"});
  expect_bad(d, st_file(one(R"({"dtype":"F32","shape":[-1],"data_offsets":[0,4]})"), "abcd"),
             {"tensor 'w'", "non-negative integers"});
  expect_bad(d, st_file(one(R"({"dtype":"F32","shape":[1.5],"data_offsets":[0,4]})"), "abcd"),
             {"non-negative integers"});
  expect_bad(d, st_file(one(R"({"dtype":"F32","shape":["1"],"data_offsets":[0,4]})"), "abcd"),
             {"non-negative integers"});
  expect_bad(d, st_file(one(R"({"dtype":"F32","shape":[1]})"), "abcd"), {"tensor 'w'", "data_offsets"});
  expect_bad(d, st_file(one(R"({"dtype":"F32","shape":[1],"data_offsets":[0]})"), "abcd"), {"data_offsets"});
  expect_bad(d, st_file(one(R"({"dtype":"F32","shape":[1],"data_offsets":[-4,0]})"), "abcd"), {"data_offsets"});
  expect_bad(d, st_file(one(R"({"dtype":"F32","shape":[0],"data_offsets":[4,0]})"), "abcd"), {"begin > end"});
  expect_bad(d, st_file(one(R"({"dtype":"F32","shape":[2,2],"data_offsets":[0,12]})"), std::string(12, 'x')),
             {"tensor 'w'", "needs 16 bytes", "span 12"});
  expect_bad(d,
             st_file(one(R"({"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]})"),
                     std::string(16, 'x')),
             {"tensor 'w'", "overflow"});
  expect_bad(d,
             st_file(one(R"({"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]})"), "abcd"),
             {"tensor 'w'", "non-negative integers"});
}

TEST(Safetensors, OffsetsOutOfBoundsOverlappingHolesAndTrailing) {
  ScratchDir d;
  expect_bad(d, st_file(R"({"wte.weight":{"dtype":"F32","shape":[100],"data_offsets":[0,400]}})", std::string(396, 'x')),
             {"tensor 'wte.weight': data_offsets [0, 400] exceed data size 396"});
  expect_bad(d,
             st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                     R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                     std::string(12, 'x')),
             {"tensor 'b'", "overlap tensor 'a'"});
  expect_bad(d,
             st_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                     R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                     std::string(12, 'x')),
             {"tensor 'b'", "hole", "[4, 8)"});
  expect_bad(d, st_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", std::string(8, 'x')),
             {"data section has 8 bytes", "cover 4"});
  expect_bad(d, st_file(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}})", "z"),
             {"data section has 1 bytes", "cover 0"});
}

TEST(Safetensors, DuplicateNamesAndBadMetadata) {
  ScratchDir d;
  expect_bad(d,
             st_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                     R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                     "xy"),
             {"duplicate key 'a'"});
  expect_bad(d, st_file(R"({"a":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}})", "x"),
             {"duplicate key 'dtype'"});
  expect_bad(d, st_file(R"({"__metadata__":[1]})"), {"'__metadata__' is not an object"});
  expect_bad(d, st_file(R"({"__metadata__":{"step":3}})"), {"'__metadata__'", "'step'", "not a string"});
}

TEST(Safetensors, EveryTruncationOfAValidFileIsRejected) {
  ScratchDir d;
  std::string p = d.file("good.safetensors");
  qkv::io::save_safetensors(p, expected_tensors(), {{"format", "pt"}});
  std::string good = qkv::testing::read_bytes(p);
  for (size_t len = 0; len < good.size(); ++len) {
    qkv::testing::write_bytes(d.file("cut.safetensors"), good.substr(0, len));
    EXPECT_THROW(qkv::io::load_safetensors(d.file("cut.safetensors")), qkv::IOError) << "length " << len;
  }
  // Flipping any single header byte either still parses to a valid file or
  // raises IOError: never a crash or an out-of-bounds read (run under ASan).
  uint64_t n = 0;
  std::memcpy(&n, good.data(), 8);
  for (size_t i = 0; i < 8 + n; ++i) {
    for (unsigned char flip : {0x01, 0x80}) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      qkv::testing::write_bytes(d.file("flip.safetensors"), bad);
      try {
        qkv::io::load_safetensors(d.file("flip.safetensors"));
      } catch (const qkv::IOError&) {
      }
    }
  }
}

TEST(Safetensors, LoadsPythonWrittenFixture) {
  std::string p = std::string(QKV_TEST_FIXTURES) + "/io/python_written.safetensors";
  qkv::io::NamedTensors nt = qkv::io::load_safetensors(p);
  EXPECT_EQ(nt.metadata.at("format"), "pt");
  EXPECT_EQ(nt.metadata.at("written_by"), "make_safetensors_fixture.py");
  EXPECT_EQ(nt.tensors.size(), 10u);
  for (const auto& [name, t] : expected_tensors()) {
    ASSERT_TRUE(nt.contains(name)) << name;
    EXPECT_EQ(nt.at(name).dtype(), t.dtype()) << name;
    EXPECT_EQ(nt.at(name).shape(), t.shape()) << name;
    EXPECT_EQ(bytes_of(nt.at(name)), bytes_of(t)) << name;
  }
  // F16 is widened to Float32 exactly: 1, -0.5, max half, smallest subnormal, inf.
  const Tensor& h = nt.at("f16");
  EXPECT_EQ(h.dtype(), DType::Float32);
  EXPECT_EQ(h.to_vector(), (std::vector<float>{1.0f, -0.5f, 65504.0f, std::ldexp(1.0f, -24),
                                               std::numeric_limits<float>::infinity()}));
  EXPECT_EQ(nt.at("bf16").to_vector(), (std::vector<float>{1.0f, -2.5f, 0.15625f, 65536.0f}));
}

TEST(Safetensors, FileWeWriteIsAcceptedByPythonChecker) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "/usr/bin/python3 not found; interop check skipped";
  ScratchDir d;
  std::string p = d.file("qkv_written.safetensors");
  qkv::io::save_safetensors(p, expected_tensors(), {{"format", "pt"}, {"written_by", "qkv"}});
  auto r = qkv::testing::shell("/usr/bin/python3 " + std::string(QKV_TEST_FIXTURES) +
                               "/io/make_safetensors_fixture.py --check " + p);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("ok"), std::string::npos) << r.out;
}
