#!/bin/sh
# Installs oauth-agent (the default) or oauth-broker (--broker) on Linux or macOS, and removes
# them again with --uninstall. Every file and folder it creates is listed in a manifest under
# PREFIX/share, so that --uninstall removes exactly those, and only while they are unchanged.
# Running it again updates the binaries and units in place. See docs/installing.md.
set -eu

usage() {
	cat <<'EOF'
Usage: install.sh [OPTIONS]

Installs oauth-agent as a service of the current user (the default), the agent system-wide
(--system), or the broker as a system service (--broker), building the binaries with cargo
unless --bin-dir names a folder holding them.

  --broker           install oauth-broker and its systemd unit (Linux; implies --system)
  --system           system-wide: prefix /usr/local; for the agent, the system units that run
                     it as user oauth-agent with its socket open to group oauth-agent-clients
  --prefix DIR       binaries go to DIR/bin (default ~/.local, or /usr/local with --system)
  --bin-dir DIR      copy pre-built binaries from DIR instead of running cargo build
  --sysconfdir DIR   systemd units, sysusers.d and the broker's config under DIR (default /etc)
  --no-service       install the files only: register, enable or start nothing
  --uninstall        remove what an install with the same options put in place
  --purge            with --uninstall --broker: also remove the generated master key
  -h, --help         this text
EOF
}

die() {
	printf 'install.sh: %s\n' "$*" >&2
	exit 1
}

say() {
	printf '%s\n' "$*"
}

here=$(cd "$(dirname "$0")" && pwd)
component=agent
system=no
prefix=
bin_dir=
sysconfdir=/etc
service=yes
action=install
purge=no

while [ $# -gt 0 ]; do
	case $1 in
	--broker) component=broker system=yes ;;
	--system) system=yes ;;
	--prefix) [ $# -ge 2 ] || die "--prefix needs a folder"; prefix=$2; shift ;;
	--bin-dir) [ $# -ge 2 ] || die "--bin-dir needs a folder"; bin_dir=$2; shift ;;
	--sysconfdir) [ $# -ge 2 ] || die "--sysconfdir needs a folder"; sysconfdir=$2; shift ;;
	--no-service) service=no ;;
	--uninstall) action=uninstall ;;
	--purge) purge=yes ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown option '$1'" ;;
	esac
	shift
done

# Paths are written into units with sed and into the manifest one a line.
absolute() {
	case $1 in
	*'#'* | *'
'*) die "paths with '#' or a line break are not supported: $1" ;;
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$(pwd)" "$1" ;;
	esac
}

if [ -z "$prefix" ]; then
	if [ "$system" = yes ]; then prefix=/usr/local; else prefix=${HOME:?HOME is not set}/.local; fi
fi
prefix=$(absolute "$prefix")
sysconfdir=$(absolute "$sysconfdir")
[ -z "$bin_dir" ] || bin_dir=$(absolute "$bin_dir")
unit_dir=$sysconfdir/systemd/system
broker_etc=$sysconfdir/oauth-broker
manifest_dir=$prefix/share/oauth-$component-install
manifest=$manifest_dir/manifest

case $(uname -s) in
Darwin) [ "$system" = no ] || die "--system and --broker need systemd (Linux); on macOS run the broker with Docker" ;;
Linux) ;;
*) die "unsupported system $(uname -s): use install.ps1 on Windows" ;;
esac

# --- the manifest: one "TYPE SHA256 PATH" line per created thing; TYPE f (file), k (file kept
# --- unless --purge), d (folder, removed when empty).

checksum() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum <"$1" | cut -d ' ' -f 1
	else
		shasum -a 256 <"$1" | cut -d ' ' -f 1
	fi
}

# Records "TYPE SUM PATH" in the manifest, in place of an earlier line for PATH.
record() {
	: >>"$manifest"
	LINE="$1 $2 $3" P=$3 awk '
		substr($0, length($1) + length($2) + 3) == ENVIRON["P"] { $0 = ENVIRON["LINE"]; seen = 1 }
		{ print }
		END { if (!seen) print ENVIRON["LINE"] }' "$manifest" >"$manifest.new"
	mv -f "$manifest.new" "$manifest"
}

# Prints the folders `mkdir -p DIR` would create, outermost first.
missing_dirs() {
	d=$1 list=
	while [ ! -d "$d" ]; do
		list="$d
$list"
		d=$(dirname "$d")
	done
	printf '%s' "$list"
}

# mkdir -p that records each folder it creates (once DIR exists, so may the manifest's).
make_dir() {
	created=$(missing_dirs "$1")
	mkdir -p "$1" || die "cannot create $1 (for a system-wide install, run as root)"
	printf '%s\n' "$created" | while IFS= read -r d; do
		[ -z "$d" ] || record d - "$d"
	done
}

# Copies SRC to DEST atomically (a running binary may be replaced) with MODE, and records it.
put_file() {
	make_dir "$(dirname "$2")"
	cp "$1" "$2.install-tmp"
	chmod "$3" "$2.install-tmp"
	mv -f "$2.install-tmp" "$2"
	record f "$(checksum "$2")" "$2"
}

# A unit with its paths pointed at this install's prefix and sysconfdir.
put_unit() {
	tmp=$(mktemp)
	sed -e "s#/usr/local/bin/#$prefix/bin/#g" -e "s#/etc/oauth-broker/#$broker_etc/#g" \
		"$1" >"$tmp"
	put_file "$tmp" "$2" 0644
	rm -f "$tmp"
}

# --- service managers; a failure is reported, and the files stay installed.

# Runs a service manager's TOOL with ARGS, unless --no-service.
manage() {
	[ "$service" = yes ] || return 0
	if ! command -v "$1" >/dev/null 2>&1; then
		say "note: no $1 here; run '$*' where systemd runs"
		return 0
	fi
	"$@" || say "warning: '$*' failed; run it again once systemd runs"
}

agent_has_service_command() {
	"$prefix/bin/oauth-agent" service --help >/dev/null 2>&1
}

agent_service() {
	[ "$service" = yes ] || return 0
	if ! agent_has_service_command; then
		say "note: this oauth-agent has no 'service' command, so no service was $1ed;"
		say "      'oauth-agent token' starts the daemon on demand (docs/installing.md)"
		return 0
	fi
	"$prefix/bin/oauth-agent" service "$1" || die "'oauth-agent service $1' failed (above)"
}

# --- install

binaries() {
	if [ -n "$bin_dir" ]; then
		src=$bin_dir
	else
		command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust, or pass --bin-dir"
		say "building oauth-$component (cargo build --release)"
		(cd "$here/.." && cargo build --release --locked -p "oauth-$component")
		src=${CARGO_TARGET_DIR:-$here/../target}/release
	fi
	[ -x "$src/oauth-$component" ] || die "no executable oauth-$component in $src"
	put_file "$src/oauth-$component" "$prefix/bin/oauth-$component" 0755
	say "installed $prefix/bin/oauth-$component"
}

# Installs the files matching GLOB in installers/systemd/KIND into SYSCONFDIR/KIND (units into
# SYSCONFDIR/systemd/system), counting them in $installed.
systemd_files() {
	installed=0 target=$sysconfdir/$1
	[ "$1" != system ] || target=$unit_dir
	for f in "$here/systemd/$1"/$2; do
		[ -f "$f" ] || continue
		put_unit "$f" "$target/$(basename "$f")"
		installed=$((installed + 1))
	done
}

install_broker() {
	systemd_files system 'oauth-broker.*'
	[ "$installed" -gt 0 ] || die "no oauth-broker units in $here/systemd/system"
	if [ ! -e "$broker_etc/broker.toml" ]; then
		put_file "$here/broker.toml.example" "$broker_etc/broker.toml" 0644
		say "wrote $broker_etc/broker.toml from the example: edit it"
	fi
	key=$broker_etc/credentials/master-key
	if [ ! -e "$key" ]; then
		make_dir "$broker_etc/credentials"
		chmod 0700 "$broker_etc/credentials"
		(umask 077 && "$prefix/bin/oauth-broker" gen-key >"$key.install-tmp" && mv "$key.install-tmp" "$key")
		record k "$(checksum "$key")" "$key"
		say "generated the master key $key (back it up: without it the database is useless)"
	fi
	manage systemctl daemon-reload
	manage systemctl enable oauth-broker.service
	say "next: edit $broker_etc/broker.toml, add each provider's client secret as a credential"
	say "      (docs/installing.md), then: systemctl start oauth-broker"
}

install_agent_system() {
	systemd_files system 'oauth-agent.*'
	[ "$installed" -gt 0 ] || die "no system-wide oauth-agent units in $here/systemd/system"
	systemd_files sysusers.d 'oauth-agent*.conf'
	[ "$installed" -eq 0 ] || manage systemd-sysusers "$sysconfdir"/sysusers.d/oauth-agent*.conf
	systemd_files tmpfiles.d 'oauth-agent*.conf'
	[ "$installed" -eq 0 ] || manage systemd-tmpfiles --create "$sysconfdir"/tmpfiles.d/oauth-agent*.conf
	manage systemctl daemon-reload
	if [ -f "$unit_dir/oauth-agent.socket" ]; then
		manage systemctl enable --now oauth-agent.socket
	else
		manage systemctl enable --now oauth-agent.service
	fi
	say "users who may get tokens join the group: usermod -aG oauth-agent-clients USER"
}

path_hint() {
	case ":${PATH:-}:" in
	*":$prefix/bin:"*) ;;
	*) say "note: $prefix/bin is not on your PATH; add it in your shell's profile" ;;
	esac
}

do_install() {
	make_dir "$manifest_dir"
	binaries
	if [ "$component" = broker ]; then
		install_broker
	elif [ "$system" = yes ]; then
		install_agent_system
	else
		agent_service install
	fi
	path_hint
	say "manifest: $manifest (installers/install.sh --uninstall removes what it lists)"
}

# --- uninstall

stop_services() {
	if [ "$component" = broker ]; then
		manage systemctl disable --now oauth-broker.service
	elif [ "$system" = yes ]; then
		for unit in oauth-agent.socket oauth-agent.service; do
			! grep -qF " $unit_dir/$unit" "$manifest" || manage systemctl disable --now "$unit"
		done
	elif [ -x "$prefix/bin/oauth-agent" ]; then
		agent_service uninstall
	fi
}

remove_file() {
	if [ ! -e "$3" ]; then
		return 0
	elif [ "$1" = k ] && [ "$purge" = no ]; then
		say "kept $3 (the master key; --purge removes it)"
	elif [ "$2" != - ] && [ "$(checksum "$3")" != "$2" ]; then
		say "kept $3: changed since it was installed"
	else
		rm -f "$3"
	fi
}

do_uninstall() {
	if [ ! -f "$manifest" ]; then
		say "nothing to remove: no manifest at $manifest"
		return 0
	fi
	stop_services
	while IFS=' ' read -r type sum path; do
		[ "$type" = d ] || remove_file "$type" "$sum" "$path"
	done <"$manifest"
	[ "$system" = no ] || manage systemctl daemon-reload
	dirs=$(awk '$1 == "d" { print substr($0, length($1) + length($2) + 3) }' "$manifest" | sort -r)
	rm -f "$manifest"
	printf '%s\n' "$dirs" | while IFS= read -r d; do
		[ -z "$d" ] || rmdir "$d" 2>/dev/null || [ ! -d "$d" ] || say "kept $d: not empty"
	done
	say "uninstalled oauth-$component from $prefix"
}

if [ "$action" = install ]; then do_install; else do_uninstall; fi
