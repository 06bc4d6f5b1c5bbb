# packaging.cmake — the install() rules and the two Debian packages, built by CPack's DEB
# generator from this build tree (scripts/package; docs/deploy.md says why CPack and not
# a debian/ folder):
#
#   kohtaamo-kiosk      /usr/bin/kohtaamo, kohtaamo-enroll, kohtaamo-sync, kohtaamo-export;
#                       /usr/share/kohtaamo/{surveys,lang,news.toml,assets};
#                       /etc/kohtaamo/kiosk.toml and /etc/pam.d/kohtaamo-kiosk (conffiles);
#                       kohtaamo-kiosk.service; the user kohtaamo and /var/lib/kohtaamo (0700)
#   kohtaamo-collector  /usr/bin/kohtaamo-collector; /usr/share/kohtaamo-collector/{surveys,lang};
#                       /etc/kohtaamo/collector.toml (conffile); kohtaamo-collector.service;
#                       the user kohtaamo-collector and /var/lib/kohtaamo-collector (0700)
#
# Runtime libraries are found by dpkg-shlibdeps; what is used but not linked (the
# compositor, the fonts, Mesa's EGL and GL drivers, systemd's tools) is named here.

set(DEPLOY ${CMAKE_CURRENT_SOURCE_DIR}/scripts/deploy)
set(KOHTAAMO_MAINTAINER "Kohtaamo maintainers <kohtaamo@hyvinvointialue.example>")
# The changelog's date: the commit's, so that the same tree gives the same package.
execute_process(COMMAND git log -1 --format=%cD WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}
                OUTPUT_VARIABLE KOHTAAMO_DATE OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT KOHTAAMO_DATE)
  set(KOHTAAMO_DATE "Thu, 01 Jan 2026 00:00:00 +0000")
endif()

set(pkgdir ${CMAKE_CURRENT_BINARY_DIR}/deb)
# Per package: the maintainer scripts, the conffiles list, copyright and changelog.
function(kohtaamo_deb_files PACKAGE UNIT DATADIR DATAFILE WHAT EXTRA_PURGE CONFFILES)
  set(VERSION ${PROJECT_VERSION})
  set(MAINTAINER ${KOHTAAMO_MAINTAINER})
  set(DATE ${KOHTAAMO_DATE})
  foreach(script postinst prerm postrm)
    configure_file(${DEPLOY}/${script}.in ${pkgdir}/${PACKAGE}/${script} @ONLY)
  endforeach()
  string(REPLACE ";" "\n" conffiles "${CONFFILES}")
  file(WRITE ${pkgdir}/${PACKAGE}/conffiles "${conffiles}\n")
  configure_file(${DEPLOY}/copyright.in ${pkgdir}/${PACKAGE}/doc/copyright @ONLY)
  configure_file(${DEPLOY}/changelog.in ${pkgdir}/${PACKAGE}/changelog @ONLY)
  add_custom_command(OUTPUT ${pkgdir}/${PACKAGE}/doc/changelog.gz
    COMMAND gzip -9nc ${pkgdir}/${PACKAGE}/changelog > ${pkgdir}/${PACKAGE}/doc/changelog.gz
    DEPENDS ${pkgdir}/${PACKAGE}/changelog VERBATIM)
  add_custom_target(${PACKAGE}-changelog ALL DEPENDS ${pkgdir}/${PACKAGE}/doc/changelog.gz)
  string(TOUPPER ${PACKAGE} P)
  string(REPLACE "KOHTAAMO-" "" P ${P})
  set(CPACK_DEBIAN_${P}_PACKAGE_CONTROL_EXTRA
      ${pkgdir}/${PACKAGE}/postinst ${pkgdir}/${PACKAGE}/prerm ${pkgdir}/${PACKAGE}/postrm ${pkgdir}/${PACKAGE}/conffiles
      PARENT_SCOPE)
endfunction()

kohtaamo_deb_files(kohtaamo-kiosk kohtaamo-kiosk.service kohtaamo "kohtaamo.sqlite: the answers"
  "answers not yet at the collector"
  "    # This device's settings, written by kohtaamo-enroll (not conffiles: dpkg never ships them).\n    rm -f \"$DPKG_ROOT/etc/kohtaamo/device.toml\" \"$DPKG_ROOT/etc/kohtaamo/.device.toml.part\" \"$DPKG_ROOT\"/etc/kohtaamo/collector-ca-*.pem\n"
  "/etc/kohtaamo/kiosk.toml;/etc/pam.d/kohtaamo-kiosk")
kohtaamo_deb_files(kohtaamo-collector kohtaamo-collector.service kohtaamo-collector
  "collector.sqlite: every kiosk's answers" "the only copy of the answers" ""
  "/etc/kohtaamo/collector.toml")

# --- kohtaamo-kiosk
install(TARGETS kohtaamo kohtaamo-enroll kohtaamo-sync kohtaamo-export RUNTIME DESTINATION bin COMPONENT kiosk)
install(DIRECTORY config/surveys config/lang DESTINATION share/kohtaamo COMPONENT kiosk)
install(FILES config/news.toml DESTINATION share/kohtaamo COMPONENT kiosk)
install(DIRECTORY assets/ DESTINATION share/kohtaamo/assets COMPONENT kiosk)
install(FILES ${DEPLOY}/kiosk.toml DESTINATION /etc/kohtaamo COMPONENT kiosk)
install(FILES ${DEPLOY}/kohtaamo-kiosk.pam DESTINATION /etc/pam.d RENAME kohtaamo-kiosk COMPONENT kiosk)
install(FILES ${DEPLOY}/kohtaamo-kiosk.service DESTINATION /lib/systemd/system COMPONENT kiosk)
install(FILES ${DEPLOY}/kohtaamo-kiosk.sysusers DESTINATION lib/sysusers.d RENAME kohtaamo-kiosk.conf COMPONENT kiosk)
install(FILES ${DEPLOY}/kohtaamo-kiosk.tmpfiles DESTINATION lib/tmpfiles.d RENAME kohtaamo-kiosk.conf COMPONENT kiosk)
install(FILES ${pkgdir}/kohtaamo-kiosk/doc/copyright ${pkgdir}/kohtaamo-kiosk/doc/changelog.gz
              docs/deploy.md docs/configuration.md docs/survey-format.md docs/export.md
        DESTINATION share/doc/kohtaamo-kiosk COMPONENT kiosk)

# --- kohtaamo-collector
install(TARGETS kohtaamo-collector RUNTIME DESTINATION bin COMPONENT collector)
install(DIRECTORY config/surveys DESTINATION share/kohtaamo-collector COMPONENT collector)
install(DIRECTORY config/lang/ DESTINATION share/kohtaamo-collector/lang COMPONENT collector
        FILES_MATCHING PATTERN "report-*.toml")
install(FILES ${DEPLOY}/collector.toml DESTINATION /etc/kohtaamo COMPONENT collector)
install(FILES ${DEPLOY}/kohtaamo-collector.service DESTINATION /lib/systemd/system COMPONENT collector)
install(FILES ${DEPLOY}/kohtaamo-collector.sysusers DESTINATION lib/sysusers.d RENAME kohtaamo-collector.conf COMPONENT collector)
install(FILES ${DEPLOY}/kohtaamo-collector.tmpfiles DESTINATION lib/tmpfiles.d RENAME kohtaamo-collector.conf COMPONENT collector)
install(FILES ${pkgdir}/kohtaamo-collector/doc/copyright ${pkgdir}/kohtaamo-collector/doc/changelog.gz
              sync/README.md sync/PROTOCOL.md docs/deploy.md docs/export.md
        DESTINATION share/doc/kohtaamo-collector COMPONENT collector)

# --- CPack: one .deb per component
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME kohtaamo)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT ${KOHTAAMO_MAINTAINER})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL kiosk collector)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://kohtaamo.hyvinvointialue.example/")
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)

set(CPACK_DEBIAN_KIOSK_PACKAGE_NAME kohtaamo-kiosk)
set(CPACK_DEBIAN_KIOSK_PACKAGE_DEPENDS
    "cage, xwayland, fonts-dejavu-core, fonts-noto-color-emoji, libegl1, libegl-mesa0, libgl1-mesa-dri, libpam-systemd, systemd, init-system-helpers (>= 1.58)")
set(CPACK_COMPONENT_KIOSK_DESCRIPTION "participation kiosk for family-centre meeting points
Kohtaamo is a touch-screen kiosk on which children, teens and parents at a
family centre's meeting point (perhekeskuksen kohtaamispaikka) or a pop-up
event give feedback with faces, pictures and short questions, offline-first.
Every answer is stored in a local SQLite database the moment it is given and
sent to the county's collector when the network allows.
.
This package boots the machine into the kiosk: cage on tty1 under systemd,
restarted when it crashes or hangs. Enrol each device once with
kohtaamo-enroll; see /usr/share/doc/kohtaamo-kiosk/deploy.md.")

set(CPACK_DEBIAN_COLLECTOR_PACKAGE_NAME kohtaamo-collector)
set(CPACK_DEBIAN_COLLECTOR_PACKAGE_DEPENDS "systemd, init-system-helpers (>= 1.58)")
set(CPACK_COMPONENT_COLLECTOR_DESCRIPTION "central collector for Kohtaamo kiosks
The collector receives the answers Kohtaamo kiosks send, stores each one
exactly once whatever the network does, and gives coordinators exports and
the report across every meeting point.
.
It runs as a sandboxed systemd service behind a TLS-terminating reverse proxy;
see /usr/share/doc/kohtaamo-collector/README.md.")

include(CPack)
