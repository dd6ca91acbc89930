"""NBD wire constants and message layouts (fixed newstyle handshake, simple replies).

Only what the gateway speaks: the option haggling of the fixed newstyle handshake
(EXPORT_NAME, ABORT, LIST, INFO, GO) and the transmission phase with simple replies.
Numbers are those of the NBD protocol document (doc/proto.md of the reference server).
"""

from __future__ import annotations

import struct

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
OPT_REPLY_MAGIC = 0x0003E889045565A9
REQUEST_MAGIC = 0x25609513
SIMPLE_REPLY_MAGIC = 0x67446698

# Handshake flags (server) and client flags.
FLAG_FIXED_NEWSTYLE = 1 << 0
FLAG_NO_ZEROES = 1 << 1

# Options.
OPT_EXPORT_NAME, OPT_ABORT, OPT_LIST, OPT_STARTTLS, OPT_INFO, OPT_GO = 1, 2, 3, 5, 6, 7

# Option replies; errors have bit 31 set.
REP_ACK, REP_SERVER, REP_INFO = 1, 2, 3
REP_ERR_UNSUP = (1 << 31) + 1
REP_ERR_POLICY = (1 << 31) + 2
REP_ERR_INVALID = (1 << 31) + 3
REP_ERR_UNKNOWN = (1 << 31) + 6
INFO_EXPORT, INFO_BLOCK_SIZE = 0, 3

# Transmission flags.
TFLAG_HAS_FLAGS = 1 << 0
TFLAG_SEND_FLUSH = 1 << 2
TFLAG_SEND_FUA = 1 << 3
TFLAG_SEND_TRIM = 1 << 5
TFLAG_SEND_WRITE_ZEROES = 1 << 6
TFLAG_CAN_MULTI_CONN = 1 << 8
TRANSMISSION_FLAGS = (TFLAG_HAS_FLAGS | TFLAG_SEND_FLUSH | TFLAG_SEND_FUA | TFLAG_SEND_TRIM
                      | TFLAG_SEND_WRITE_ZEROES | TFLAG_CAN_MULTI_CONN)

# Commands and command flags.
CMD_READ, CMD_WRITE, CMD_DISC, CMD_FLUSH, CMD_TRIM, CMD_CACHE, CMD_WRITE_ZEROES = 0, 1, 2, 3, 4, 5, 6
CMD_FLAG_FUA = 1 << 0
CMD_FLAG_NO_HOLE = 1 << 1
# The flags each command accepts; any other bit is EINVAL.
ALLOWED_FLAGS = {
    CMD_READ: CMD_FLAG_FUA, CMD_WRITE: CMD_FLAG_FUA, CMD_FLUSH: CMD_FLAG_FUA,
    CMD_TRIM: CMD_FLAG_FUA, CMD_WRITE_ZEROES: CMD_FLAG_FUA | CMD_FLAG_NO_HOLE,
    CMD_DISC: 0,
}

# Errors (errno values the protocol defines).
EPERM, EIO, ENOMEM, EINVAL, ENOSPC, EOVERFLOW, ENOTSUP, ESHUTDOWN = 1, 5, 12, 22, 28, 75, 95, 108

# Block sizes advertised with NBD_INFO_BLOCK_SIZE: any 512-aligned access works, but a
# request longer than MAX_PAYLOAD is refused (EINVAL, or the connection is closed for a
# WRITE, whose payload could not be skipped safely).
MIN_BLOCK = 1
PREFERRED_BLOCK = 4096
MAX_PAYLOAD = 32 << 20

HANDSHAKE = struct.Struct(">QQH")          # NBDMAGIC, IHAVEOPT, handshake flags
OPTION_HEADER = struct.Struct(">QII")      # IHAVEOPT, option, length
OPTION_REPLY = struct.Struct(">QIII")      # magic, option, reply type, length
REQUEST = struct.Struct(">IHHQQI")         # magic, flags, type, cookie, offset, length
SIMPLE_REPLY = struct.Struct(">IIQ")       # magic, error, cookie
EXPORT_INFO = struct.Struct(">HQH")        # NBD_INFO_EXPORT, size, transmission flags
BLOCK_INFO = struct.Struct(">HIII")        # NBD_INFO_BLOCK_SIZE, min, preferred, max
