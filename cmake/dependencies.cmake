# Every third-party library comes from a Debian 12 package; see ../shared/reference/stack.md.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

# CAF 0.17.6 ships neither a CMake config nor a .pc file.
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIB caf_core REQUIRED)
add_library(CAF::core SHARED IMPORTED)
set_target_properties(CAF::core PROPERTIES IMPORTED_LOCATION ${CAF_CORE_LIB}
  INTERFACE_INCLUDE_DIRECTORIES ${CAF_INCLUDE_DIR} INTERFACE_LINK_LIBRARIES Threads::Threads)

pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET GLOBAL rdkafka)
find_package(RocksDB CONFIG REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(nlohmann_json 3.11 CONFIG REQUIRED)
find_package(GTest CONFIG REQUIRED)
# vim25 SOAP replies (the VMware provider).
find_package(pugixml CONFIG REQUIRED)
