<#
.SYNOPSIS
Installs oauth-agent for the current Windows user, or removes it again with -Uninstall.

.DESCRIPTION
Copies oauth-agent.exe into %LOCALAPPDATA%\oauth-agent\bin (built with cargo unless -BinDir
names a folder holding it), adds that folder to the user's PATH, and runs
`oauth-agent service install`, which starts the agent at logon. Everything it creates is listed
in a manifest beside the bin folder, so that -Uninstall removes exactly that. Running it again
updates the binary in place. No administrator rights are needed. See docs/installing.md.

.EXAMPLE
powershell -ExecutionPolicy Bypass -File installers\install.ps1
powershell -ExecutionPolicy Bypass -File installers\install.ps1 -BinDir C:\Downloads\oauth-agent
powershell -ExecutionPolicy Bypass -File installers\install.ps1 -Uninstall
#>
[CmdletBinding()]
param(
    # A folder holding a pre-built oauth-agent.exe; without it, cargo builds one.
    [string]$BinDir,
    # Where the binary goes.
    [string]$InstallDir = (Join-Path $env:LOCALAPPDATA 'oauth-agent\bin'),
    # Install the files only: register no service.
    [switch]$NoService,
    # Remove what an earlier run installed.
    [switch]$Uninstall
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$Exe = Join-Path $InstallDir 'oauth-agent.exe'
$Manifest = Join-Path (Split-Path $InstallDir -Parent) 'install-manifest.txt'

# The manifest: one "TYPE<TAB>PATH" line per created thing; TYPE file, dir or path (the folder
# this script added to the user's PATH).
function Add-Record([string]$Type, [string]$Path) {
    $line = "$Type`t$Path"
    $lines = @()
    if (Test-Path $Manifest) { $lines = @(Get-Content $Manifest) }
    if ($lines -notcontains $line) { Add-Content -Path $Manifest -Value $line }
}

function Get-Records {
    if (-not (Test-Path $Manifest)) { return @() }
    return @(Get-Content $Manifest | ForEach-Object {
        $type, $path = $_ -split "`t", 2
        [pscustomobject]@{ Type = $type; Path = $path }
    })
}

# New-Item -ItemType Directory for each missing folder, outermost first, each recorded.
function New-RecordedDirectory([string]$Path) {
    $missing = @()
    $dir = $Path
    while ($dir -and -not (Test-Path $dir)) {
        $missing = @($dir) + $missing
        $dir = Split-Path $dir -Parent
    }
    foreach ($d in $missing) {
        New-Item -ItemType Directory -Path $d | Out-Null
        $script:created += $d
    }
}

function Test-ServiceCommand {
    & $Exe service --help *> $null
    return $LASTEXITCODE -eq 0
}

function Invoke-AgentService([string]$Verb) {
    if ($NoService) { return }
    if (-not (Test-ServiceCommand)) {
        Write-Host "note: this oauth-agent has no 'service' command, so no service was changed;"
        Write-Host "      'oauth-agent token' starts the daemon on demand (docs/installing.md)"
        return
    }
    & $Exe service $Verb
    if ($LASTEXITCODE -ne 0) { throw "'oauth-agent service $Verb' failed (above)" }
}

function Get-SourceExe {
    if ($BinDir) {
        $source = Join-Path $BinDir 'oauth-agent.exe'
    } else {
        if (-not (Get-Command cargo -ErrorAction SilentlyContinue)) {
            throw 'cargo not found: install Rust, or pass -BinDir'
        }
        $root = Split-Path $PSScriptRoot -Parent
        Write-Host 'building oauth-agent (cargo build --release)'
        Push-Location $root
        try { & cargo build --release --locked -p oauth-agent } finally { Pop-Location }
        if ($LASTEXITCODE -ne 0) { throw 'cargo build failed (above)' }
        $target = if ($env:CARGO_TARGET_DIR) { $env:CARGO_TARGET_DIR } else { Join-Path $root 'target' }
        $source = Join-Path $target 'release\oauth-agent.exe'
    }
    if (-not (Test-Path $source)) { throw "no oauth-agent.exe in $(Split-Path $source -Parent)" }
    return $source
}

function Add-UserPath {
    $path = [Environment]::GetEnvironmentVariable('Path', 'User')
    $entries = @(if ($path) { $path -split ';' | Where-Object { $_ } })
    if ($entries -contains $InstallDir) { return }
    [Environment]::SetEnvironmentVariable('Path', (@($entries) + $InstallDir) -join ';', 'User')
    Add-Record 'path' $InstallDir
    Write-Host "added $InstallDir to your PATH (new terminals see it)"
}

function Remove-UserPath([string]$Dir) {
    $path = [Environment]::GetEnvironmentVariable('Path', 'User')
    if (-not $path) { return }
    $kept = @($path -split ';' | Where-Object { $_ -and $_ -ne $Dir })
    [Environment]::SetEnvironmentVariable('Path', $kept -join ';', 'User')
}

function Install-Agent {
    $source = Get-SourceExe
    $script:created = @()
    New-RecordedDirectory $InstallDir
    foreach ($d in $script:created) { Add-Record 'dir' $d }
    # A running oauth-agent.exe cannot be overwritten, but it can be renamed out of the way.
    $old = "$Exe.old"
    if (Test-Path $old) { Remove-Item $old -Force -ErrorAction SilentlyContinue }
    if (Test-Path $Exe) { Move-Item $Exe $old -Force }
    Copy-Item $source $Exe
    Add-Record 'file' $Exe
    Write-Host "installed $Exe"
    Add-UserPath
    Invoke-AgentService 'install'
    Write-Host "manifest: $Manifest (install.ps1 -Uninstall removes what it lists)"
}

function Uninstall-Agent {
    $records = Get-Records
    if ($records.Count -eq 0) {
        Write-Host "nothing to remove: no manifest at $Manifest"
        return
    }
    if (Test-Path $Exe) { Invoke-AgentService 'uninstall' }
    foreach ($r in $records | Where-Object Type -eq 'file') {
        Remove-Item $r.Path, "$($r.Path).old" -Force -ErrorAction SilentlyContinue
        if (Test-Path $r.Path) { Write-Host "kept $($r.Path): in use; remove it after logging off" }
    }
    foreach ($r in $records | Where-Object Type -eq 'path') { Remove-UserPath $r.Path }
    Remove-Item $Manifest -Force
    $dirs = @($records | Where-Object Type -eq 'dir' | ForEach-Object Path | Sort-Object -Descending)
    foreach ($d in $dirs) {
        if ((Test-Path $d) -and -not (Get-ChildItem -Force $d)) { Remove-Item $d }
        elseif (Test-Path $d) { Write-Host "kept ${d}: not empty" }
    }
    Write-Host 'uninstalled oauth-agent'
}

if ($Uninstall) { Uninstall-Agent } else { Install-Agent }
