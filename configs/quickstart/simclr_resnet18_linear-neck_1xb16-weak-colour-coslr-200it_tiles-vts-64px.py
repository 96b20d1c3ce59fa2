# SimCLR ResNet-18 as simclr_resnet18_1xb16-weak-colour-coslr-200it_tiles-vts-64px.py, with a linear projection
# (512 -> 128, then BN like the MLP's last layer) in place of the two-layer MLP: the neck ablation of the fine-tuning
# evidence. The contrastive loss then acts on a linear map of the backbone's pooled features, so the backbone's last
# stage specialises more to instance discrimination (Chen et al., SimCLR, 2020, Sec. 4.2); a fine-tuning start may
# differ with it.
_base_ = ['./simclr_resnet18_1xb16-weak-colour-coslr-200it_tiles-vts-64px.py']
model = dict(neck=dict(_delete_=True, type='LinearNeck', in_channels=512, out_channels=128, gap_dim=2))
