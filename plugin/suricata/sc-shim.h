/*
 * The few Suricata 7 functions the plugin calls whose headers do not compile
 * outside a configured Suricata tree (util-debug.h, util-conf.h and output.h
 * pull in suricata-common.h, hence autoconf.h, pcre2, rust bindings ...).
 * suricata-plugin.h and conf.h do compile unconfigured and are included as
 * they are. Each prototype below is copied from the header named next to it;
 * plugin/suricata/CMakeLists.txt checks at configure time that the headers
 * being built against still declare them so, so a Suricata whose ABI moved
 * fails the build instead of crashing at run time. The symbols are resolved
 * against the suricata executable when the plugin is loaded.
 */
#ifndef EMBARGO_SC_SHIM_H
#define EMBARGO_SC_SHIM_H

/* util-debug.h: SCLogLevel */
enum {
    EMBARGO_SC_LOG_ERROR = 1,
    EMBARGO_SC_LOG_WARNING = 2,
    EMBARGO_SC_LOG_NOTICE = 3,
    EMBARGO_SC_LOG_INFO = 4,
    EMBARGO_SC_LOG_CONFIG = 6,
};

/* util-debug.h */
void SCLog(int x, const char *file, const char *func, const int line, const char *module,
           const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void SCLogErr(int x, const char *file, const char *func, const int line, const char *module,
              const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* util-conf.h */
const char *ConfigGetLogDirectory(void);

/* output.h: *flag is set to 1 on SIGHUP (log rotation); the owner resets it. */
void OutputRegisterFileRotationFlag(int *flag);
void OutputUnregisterFileRotationFlag(int *flag);

#define EmbargoLogError(...)                                                                       \
    SCLogErr(EMBARGO_SC_LOG_ERROR, __FILE__, __func__, __LINE__, "embargo", __VA_ARGS__)
#define EmbargoLogWarning(...)                                                                     \
    SCLogErr(EMBARGO_SC_LOG_WARNING, __FILE__, __func__, __LINE__, "embargo", __VA_ARGS__)
#define EmbargoLogNotice(...)                                                                      \
    SCLog(EMBARGO_SC_LOG_NOTICE, __FILE__, __func__, __LINE__, "embargo", __VA_ARGS__)
#define EmbargoLogConfig(...)                                                                      \
    SCLog(EMBARGO_SC_LOG_CONFIG, __FILE__, __func__, __LINE__, "embargo", __VA_ARGS__)

#endif /* EMBARGO_SC_SHIM_H */
