#!/usr/bin/python3
"""The VMware lane's independent client: pyVmomi (Debian's python3-pyvmomi)
reads what provisiond left in vCenter (vcsim) and prints it as JSON.

  vsphere_check.py HOST PORT USER PASSWORD CAFILE vms PREFIX
      every VM whose name starts with PREFIX: name, power state, CPUs,
      memory, disk sizes, NIC networks, the provisiond.* and guestinfo.*
      extraConfig (userdata decoded)
  vsphere_check.py ... clone NAME
      clones DC0_H0_VM0 into DC0's VM folder as NAME, without provisiond's
      extraConfig (a VM someone else made)
  vsphere_check.py ... expire-sessions
      terminates every session but this one (vCenter expiring provisiond's)
The TLS certificate is verified against CAFILE.
"""
import base64
import json
import ssl
import sys

from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim


def describe(vm):
    cfg = vm.config
    extra = {o.key: o.value for o in cfg.extraConfig}
    disks = [d.capacityInKB for d in cfg.hardware.device if isinstance(d, vim.vm.device.VirtualDisk)]
    nics = []
    for d in cfg.hardware.device:
        if isinstance(d, vim.vm.device.VirtualEthernetCard):
            b = d.backing
            if isinstance(b, vim.vm.device.VirtualEthernetCard.NetworkBackingInfo):
                nics.append(b.deviceName)
            else:
                nics.append("dvportgroup:" + b.port.portgroupKey)
    out = {
        "name": vm.name,
        "moref": vm._moId,
        "powerState": str(vm.runtime.powerState),
        "guestIp": vm.guest.ipAddress or "",
        "numCPU": cfg.hardware.numCPU,
        "memoryMB": cfg.hardware.memoryMB,
        "disksKB": disks,
        "nics": nics,
        "extraConfig": {k: v for k, v in extra.items() if k.startswith("provisiond.") or k.startswith("guestinfo.")},
        "folder": vm.parent.name,
        "resourcePool": vm.resourcePool.name if vm.resourcePool else None,
        "datastores": [ds.name for ds in vm.datastore],
    }
    if extra.get("guestinfo.userdata.encoding") == "base64":
        out["userdata"] = base64.b64decode(extra["guestinfo.userdata"]).decode()
    return out


def main():
    host, port, user, password, cafile, command = sys.argv[1:7]
    ctx = ssl.create_default_context(cafile=cafile)
    si = SmartConnect(host=host, port=int(port), user=user, pwd=password, sslContext=ctx)
    try:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        if command == "vms":
            prefix = sys.argv[7]
            print(json.dumps([describe(vm) for vm in view.view if vm.name.startswith(prefix)]))
        elif command == "clone":
            template = next(vm for vm in view.view if vm.name == "DC0_H0_VM0")
            dc = content.rootFolder.childEntity[0]
            spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=template.resourcePool), powerOn=False)
            task = template.CloneVM_Task(folder=dc.vmFolder, name=sys.argv[7], spec=spec)
            while task.info.state not in ("success", "error"):
                pass
            print(json.dumps({"state": str(task.info.state)}))
        elif command == "expire-sessions":
            sm = content.sessionManager
            others = [s.key for s in sm.sessionList if s.key != sm.currentSession.key]
            if others:
                sm.TerminateSession(others)
            print(json.dumps({"terminated": len(others)}))
        else:
            sys.exit("unknown command " + command)
    finally:
        Disconnect(si)


if __name__ == "__main__":
    main()
