/* `poweroff`'s action, run after the reply is written. systemd gets to stop services cleanly;
 * the raw reboot(2) is the fallback for guests without it. */
#include "methods.h"

#include <stdio.h>
#include <sys/reboot.h>
#include <unistd.h>

#define POWEROFF_TIMEOUT_MS 10000

void power_off(void)
{
	const char *systemctl = systemctl_path();
	char out[256];

	sync();
	if (systemctl && access("/run/systemd/system", F_OK) == 0) {
		const char *argv[] = { systemctl, "poweroff", "--no-block", NULL };
		if (spawn_capture(argv, out, sizeof out, POWEROFF_TIMEOUT_MS) == 0)
			return;
		fprintf(stderr, "banger-agent: systemctl poweroff failed; calling reboot(2)\n");
	}
	if (reboot(RB_POWER_OFF) < 0)
		perror("banger-agent: reboot(RB_POWER_OFF)");
}
