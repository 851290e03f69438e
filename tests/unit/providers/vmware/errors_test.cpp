#include <gtest/gtest.h>

#include <set>

#include "providers/vmware/errors.hpp"

using namespace provisiond;
using namespace provisiond::providers::vmware;

TEST(VmwareErrors, TheTableClassifiesAsTheReferenceSays) {
  auto code = [](const char* type) { return classify(vim_fault{type, "m", {}}, "w"); };
  EXPECT_EQ(code("InvalidLogin").code, errc::permanent);
  EXPECT_EQ(code("InvalidLogin").field, "auth");
  EXPECT_EQ(code("NotAuthenticated").code, errc::permanent) << "reached only after the one re-login";
  EXPECT_EQ(code("NoPermission").field, "forbidden");
  EXPECT_EQ(code("InvalidArgument").code, errc::permanent);
  EXPECT_EQ(code("DuplicateName").field, "duplicate_name");
  EXPECT_EQ(code("ManagedObjectNotFound").field, "not_found");
  EXPECT_EQ(code("TaskInProgress").code, errc::retryable);
  EXPECT_EQ(code("ResourceInUse").code, errc::retryable);
  EXPECT_EQ(code("ConcurrentAccess").code, errc::retryable);
  EXPECT_EQ(code("HostCommunication").code, errc::retryable);
  EXPECT_EQ(code("SomethingNew").code, errc::permanent);
  EXPECT_EQ(code("SomethingNew").field, "vim_fault");
}

TEST(VmwareErrors, EveryRowIsRetryableOrPermanentAndNamedOnce) {
  std::set<std::string> seen;
  for (auto& r : classification_table()) {
    EXPECT_TRUE(r.code == errc::retryable || r.code == errc::permanent) << r.fault;
    EXPECT_TRUE(seen.insert(r.fault).second) << r.fault << " twice";
  }
}

TEST(VmwareErrors, TheFaultIsQuotedWithItsFields) {
  auto e = classify(vim_fault{"DuplicateName", "The name 'vps-1' already exists.", {{"name", "vps-1"}}},
                    "vCenter CloneVM_Task");
  EXPECT_EQ(e.message, "vCenter CloneVM_Task: DuplicateName: The name 'vps-1' already exists. (name=vps-1)");
}

TEST(VmwareErrors, ANonSoapReplyIsJudgedByItsStatus) {
  EXPECT_EQ(classify_http(503, "<html>busy</html>", "w").code, errc::retryable);
  EXPECT_EQ(classify_http(404, "not here", "w").code, errc::permanent);
  EXPECT_NE(classify_http(404, "not here", "w").message.find("HTTP 404: not here"), std::string::npos);
}
