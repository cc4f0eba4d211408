/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "stw" generic netlink family (netlink.c): uapi/stw.h documents it.
 */
#ifndef _STW_NETLINK_H
#define _STW_NETLINK_H

int stw_netlink_init(void);
void stw_netlink_exit(void);

#endif /* _STW_NETLINK_H */
