"""The audit log's tables: entries, the Merkle frontier, published tree heads and checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from doorstep.platform.orm import Base


class AuditState(Base):
    """The log's size and the frontier of its Merkle tree: one row, locked while appending."""

    __tablename__ = "audit_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer, default=0)
    frontier: Mapped[list[str]] = mapped_column(JSON, default=list)


class AuditEntry(Base):
    """One appended entry; ``body`` is exactly what was hashed."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column()
    action: Mapped[str] = mapped_column(String(40), index=True)
    # Private columns: which owner the entry concerns and who acted (never published as-is).
    owner_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_id: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[str] = mapped_column(String(64))


class PublishedTreeHead(Base):
    """A tree head the server signed and published, kept so later heads can be proven consistent."""

    __tablename__ = "audit_tree_heads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(Integer, index=True)
    root: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[datetime] = mapped_column()
    signature: Mapped[str] = mapped_column(String(120))


class AuditCheckpoint(Base):
    """A checkpoint the log signed (a C2SP signed note) with the witnesses' cosignatures on it."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(Integer, index=True)
    root: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column()
    #: The whole note as served: text, blank line, the log's signature, then each cosignature.
    note: Mapped[str] = mapped_column(Text)
    #: The names of the witnesses whose cosignature the note carries.
    cosigners: Mapped[list[str]] = mapped_column(JSON, default=list)


class DeletionReceipt(Base):
    """What an owner needs to rebuild the receipt of a clip or camera they deleted.

    The nonce stays private: published, it would let anyone who knows a clip's id find the entry
    of its deletion. An account's receipt is handed over as the account goes and not kept.
    """

    __tablename__ = "deletion_receipts"

    seq: Mapped[int] = mapped_column(
        ForeignKey("audit_entries.seq", ondelete="CASCADE"), primary_key=True
    )
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    what: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
