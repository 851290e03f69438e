#include <gtest/gtest.h>

#include <sys/stat.h>

#include "common/secret_box.hpp"
#include "tests/support/temp_dir.hpp"

using provisiond::secret_box;

TEST(SecretBox, SealsWithAFreshNonceAndOpensOnlyWithKeyAndContext) {
  provisiond::testing::temp_dir dir;
  auto path = dir / "secret.key";
  auto box = secret_box::from_key_file(path);
  ASSERT_TRUE(box.has_value()) << box.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the key file is readable by its owner only";

  auto a = box->seal("hunter2", "cluster/os-1/password");
  auto b = box->seal("hunter2", "cluster/os-1/password");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b) << "a fresh nonce per value";
  EXPECT_EQ(a->find("hunter2"), std::string::npos);
  EXPECT_EQ(*box->open(*a, "cluster/os-1/password"), "hunter2");
  EXPECT_FALSE(box->open(*a, "cluster/os-2/password").has_value()) << "bound to its record";

  auto again = secret_box::from_key_file(path);  // the same key after a restart
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again->open(*a, "cluster/os-1/password"), "hunter2");

  secret_box other{secret_box::key{}};
  EXPECT_FALSE(other.open(*a, "cluster/os-1/password").has_value()) << "another key does not open it";
  auto tampered = *a;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(box->open(tampered, "cluster/os-1/password").has_value());
  EXPECT_EQ(*box->open(*box->seal("", "x"), "x"), "");
}
