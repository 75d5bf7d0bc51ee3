include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

get_property(websession_targets GLOBAL PROPERTY WEBSESSION_LIBRARY_TARGETS)
install(TARGETS ${websession_targets} websession
  EXPORT websessionTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/websession DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT websessionTargets NAMESPACE websession:: FILE websessionTargets.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/websession)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/websessionConfig.cmake.in
  ${PROJECT_BINARY_DIR}/websessionConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/websession)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/websessionConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/websessionConfig.cmake ${PROJECT_BINARY_DIR}/websessionConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/websession)
