; Inno Setup script of TEMNet Studio: a per-user installer (no administrator rights) of the
; PyInstaller bundle dist\TEMNetStudio\, with Start-menu and optional desktop shortcuts, the
; .temnet file type with its icon, and an uninstaller. See installer\windows\README.md.
; Build (from the repository root, after the bundle and the icons are made):
;     iscc /DAppVersion=0.1.0 installer\windows\temnet.iss

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "TEMNet Studio"
#define AppExe "TEMNetStudio.exe"
#define ProjectType "TEMNetStudio.Project"
#define Root "..\.."

[Setup]
AppId={{6F1D0C2E-3B8A-4C55-9E1F-7A2D4B9C1E08}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=TEMNet Studio
AppComments=Find HIV-1 virions in TEM micrographs and classify them as mature, immature or eccentric
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
ChangesAssociations=yes
SetupIconFile={#Root}\build\icons\temnet-studio.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
OutputDir={#Root}\dist
OutputBaseFilename=TEMNetStudio-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
LZMANumBlockThreads=4
WizardStyle=modern

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Root}\dist\TEMNetStudio\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autoprograms}\{#AppName} self-test"; Filename: "{cmd}"; Parameters: "/k ""{app}\temnet.exe"" self-test"; IconFilename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; .temnet project files open in TEMNet Studio (HKA: the current user's classes in a per-user install)
Root: HKA; Subkey: "Software\Classes\.temnet"; ValueType: string; ValueName: ""; ValueData: "{#ProjectType}"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.temnet\OpenWithProgids"; ValueType: string; ValueName: "{#ProjectType}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\{#ProjectType}"; ValueType: string; ValueName: ""; ValueData: "TEMNet Studio project"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\{#ProjectType}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"
Root: HKA; Subkey: "Software\Classes\{#ProjectType}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".temnet"; ValueData: ""; Flags: uninsdeletekey

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
