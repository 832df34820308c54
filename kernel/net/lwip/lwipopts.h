/* lwIP's configuration for the kernel (kernel/net/): NO_SYS, raw API only, one caller at a time (the
 * stack lock, kernel/net/stack.hpp). Every pool is sized here, in one place; running out of any of
 * them is an error returned to the caller (ERR_MEM -> ENOMEM/ENOBUFS), never a panic. */
#ifndef COKERNEL_LWIPOPTS_H
#define COKERNEL_LWIPOPTS_H

/* No operating-system layer: no threads, no mailboxes, no semaphores. The kernel serialises every
 * call into lwIP with its stack lock, so lwIP's own protection is empty. */
#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0
#define LWIP_TCPIP_CORE_LOCKING 0

/* RV64 traps on misaligned accesses to 8-byte fields (atomics above all): 8 everywhere. */
#define MEM_ALIGNMENT 8

/* ---- Sizes: the one place (docs/network.md, "Memory"). ---- */
#define COKERNEL_NET_TCP_SOCKETS 1280  /* TCP connections (TIME_WAIT ones included: lwIP reuses the
                                          oldest, but beyond them it would kill a live idle connection) */
#define COKERNEL_NET_UDP_SOCKETS 32
#define MEM_SIZE (6 * 1024 * 1024)     /* lwIP's heap: PBUF_RAM segments waiting for ACK, and more */
#define MEMP_NUM_PBUF 512              /* PBUF_REF/ROM headers */
#define PBUF_POOL_SIZE 2048            /* received frames (device and loopback copies) */
#define MEMP_NUM_TCP_PCB COKERNEL_NET_TCP_SOCKETS
#define MEMP_NUM_TCP_PCB_LISTEN 64
#define MEMP_NUM_UDP_PCB COKERNEL_NET_UDP_SOCKETS
#define MEMP_NUM_TCP_SEG 4096          /* segments queued for transmission or out of order */
#define MEMP_NUM_REASSDATA 8
#define IP_REASS_MAX_PBUFS 32
#define MEMP_NUM_FRAG_PBUF 32
#define MEMP_NUM_ARP_QUEUE 32
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 4)

/* ---- Protocols ---- */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define DHCP_DOES_ARP_CHECK 0

/* ---- TCP ---- */
#define TCP_MSS 1460
#define TCP_WND (32 * TCP_MSS)
#define TCP_SND_BUF (32 * TCP_MSS)
#define TCP_SND_QUEUELEN ((4 * TCP_SND_BUF + (TCP_MSS - 1)) / TCP_MSS)
#define TCP_QUEUE_OOSEQ 1
#define LWIP_TCP_SACK_OUT 0
#define LWIP_WND_SCALE 0
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 128
#define LWIP_CALLBACK_API 1
#define SO_REUSE 1

/* ---- Interfaces ---- */
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_HAVE_LOOPIF 1
#define LWIP_LOOPBACK_MAX_PBUFS 0
#define LWIP_NETIF_LOOPBACK_MULTITHREADING 0
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 0
#define LWIP_NETIF_HOSTNAME 0
#define LWIP_SINGLE_NETIF 0

/* ---- What the kernel does not use ---- */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define MEM_STATS 1
#define MEMP_STATS 1
#define LWIP_DEBUG 0
#define LWIP_PERF 0
#define LWIP_NOASSERT_ON_ERROR 1
#define CHECKSUM_CHECK_IP 1

#endif
