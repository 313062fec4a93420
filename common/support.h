/* support: what this build of the shim can do with a valid configuration.
 *
 * Promise: support_check() reports, as FILE:LINE errors through the conf error
 * callback, every setting that parses but whose behaviour is not built yet, so a
 * user is refused clearly at load time instead of getting a silent half-feature.
 * Returns the number of such settings.
 */
#ifndef DIALSHIM_SUPPORT_H
#define DIALSHIM_SUPPORT_H

#include "conf/conf.h"

int support_check(const struct conf *c, conf_error_fn err, void *ctx);

#endif
