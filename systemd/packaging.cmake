# Install layout of everything that is not a program (programs install from their own folders)
# and the Debian package built from it with CPack:
#   cmake -S . -B build-pkg -DCMAKE_INSTALL_PREFIX=/usr -DLW_TESTS=OFF -DLW_BENCH=OFF
#   cmake --build build-pkg && (cd build-pkg && cpack -G DEB)
# System integration files go where systemd and the daemon look for them whatever the prefix:
# the configuration under /etc/lorawatch (the daemon's built-in default), the unit, sysusers and
# tmpfiles snippets under <prefix>/lib (/usr/lib for /usr; never the multiarch libdir).
# SPDX-License-Identifier: Apache-2.0

set(LW_SYSCONF_DIR /etc/lorawatch)
set(LW_UNIT_DIR lib/systemd/system)

# ---- configuration, examples ------------------------------------------------------------------
# 0640: the file carries node keys and the MQTT password; postinst gives it group lorawatch.
install(FILES ${CMAKE_SOURCE_DIR}/config/lorawatch.conf DESTINATION ${LW_SYSCONF_DIR}
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/config/scenarios/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lorawatch/scenarios)

# ---- systemd ----------------------------------------------------------------------------------
# The committed unit names /usr/sbin/lorawatchd; another prefix gets a copy naming its sbindir.
set(lw_unit ${CMAKE_SOURCE_DIR}/systemd/lorawatchd.service)
if(NOT CMAKE_INSTALL_FULL_SBINDIR STREQUAL "/usr/sbin")
  file(READ ${lw_unit} lw_unit_text)
  string(REPLACE "/usr/sbin/lorawatchd" "${CMAKE_INSTALL_FULL_SBINDIR}/lorawatchd" lw_unit_text
                 "${lw_unit_text}")
  file(WRITE ${CMAKE_BINARY_DIR}/systemd/lorawatchd.service "${lw_unit_text}")
  set(lw_unit ${CMAKE_BINARY_DIR}/systemd/lorawatchd.service)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               ${CMAKE_SOURCE_DIR}/systemd/lorawatchd.service)
endif()
install(FILES ${lw_unit} DESTINATION ${LW_UNIT_DIR})
install(FILES ${CMAKE_SOURCE_DIR}/systemd/lorawatch.sysusers DESTINATION lib/sysusers.d
        RENAME lorawatch.conf)
install(FILES ${CMAKE_SOURCE_DIR}/systemd/lorawatch.tmpfiles DESTINATION lib/tmpfiles.d
        RENAME lorawatch.conf)

# ---- manual pages and documents ---------------------------------------------------------------
# Compressed at configure time (gzip -n: no name or time stamp, so the package is reproducible),
# so installing and packaging need no extra build target.
set(lw_man_out ${CMAKE_BINARY_DIR}/man)
file(MAKE_DIRECTORY ${lw_man_out})
foreach(page lorawatch.1 lorawatch.conf.5 lorawatchd.8)
  set(src ${CMAKE_SOURCE_DIR}/docs/man/${page})
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${page})
  execute_process(COMMAND gzip -9 -n -c ${src} OUTPUT_FILE ${lw_man_out}/${page}.gz
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "gzip ${src} failed")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src})
  install(FILES ${lw_man_out}/${page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()

# Every document under docs/ (MQTT.md links its schemas as schemas/..., so they sit beside it),
# the broker examples (mosquitto bridge, ACL, phones' broker) under examples/, and the Debian
# copyright file (DEP-5, debian/copyright) as the package's copyright.
file(GLOB lw_docs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${lw_docs} ${CMAKE_SOURCE_DIR}/proto/PROTOCOL.md
              ${CMAKE_SOURCE_DIR}/nodes/SCENARIO.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/schemas/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/schemas
        FILES_MATCHING PATTERN "*.json")
install(DIRECTORY ${CMAKE_SOURCE_DIR}/config/mosquitto/
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/mosquitto)
install(FILES ${CMAKE_SOURCE_DIR}/debian/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})

# ---- Debian package ---------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME lorawatch)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "lorawatch maintainers <maintainers@users.noreply.h-seed-21139b85.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "LoRa flood and fire warning gateway for residential estates")
# CPack puts the summary line first and indents these; "." separates paragraphs.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "lorawatchd runs on a Raspberry Pi with a LoRa radio. It receives readings
from battery sensor nodes (water level, smoke, combustible gas, CO,
temperature), stores every reading in SQLite, applies threshold rules with
hysteresis and persistence, and publishes warnings over MQTT to the duty
staff's phones.
.
This package contains the daemon (lorawatchd), its hardened systemd unit, the
lorawatch client and the lorawatch-sim simulator. The service is installed but
neither enabled nor started: choose the radio and the duty roster in
/etc/lorawatch/lorawatch.conf first (lorawatchd -n --strict checks it).")
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: from dpkg-shlibdeps (dpkg-dev), with versions: exactly the libraries the programs link
# (libmosquitto1, libuv1, libsqlite3-0, libcjson1, libinih1, libssl3, libsystemd0, libc6 ...).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# mosquitto: the local broker the default configuration talks to. fonts-wqy-microhei: a small CJK
# font, so that Chinese place names in the season report (lorawatch report, opened or printed in
# a browser on the Pi) are not drawn as boxes.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "mosquitto, fonts-wqy-microhei")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# The package holds what this configuration installs (the unit names its sbindir).
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
# Maintainer scripts and conffiles; CPack does not mark files under /etc as conffiles itself.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/systemd/debian/conffiles ${CMAKE_SOURCE_DIR}/systemd/debian/postinst
    ${CMAKE_SOURCE_DIR}/systemd/debian/prerm ${CMAKE_SOURCE_DIR}/systemd/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# make package_source: the tree without build directories and git metadata. CPACK_ variables are
# written to CPack's configuration files escaped as they are (the regular expressions below would
# otherwise reach cpack as "\." and warn "Invalid escape sequence").
set(CPACK_VERBATIM_VARIABLES ON)
set(CPACK_SOURCE_IGNORE_FILES "/\\.git/" "/build[^/]*/" "\\.swp$")
include(CPack)
