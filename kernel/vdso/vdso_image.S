/*
 * The vDSO image (vdso/vdso.so from the same build, path in VDSO_IMAGE_PATH), embedded in the kernel's
 * .rodata. It starts on a page boundary and is padded with zeros to the next one, so its pages hold
 * nothing but the image: they are mapped as they are into the kernel half and into every process
 * (kernel/vdso/vdso.cpp), and a process must see no other kernel data through them.
 */
    .section .rodata.vdso_image, "a", @progbits
    .balign 4096
    .globl vdso_image_start
vdso_image_start:
    .incbin VDSO_IMAGE_PATH
    .globl vdso_image_end
vdso_image_end:
    .balign 4096, 0
    .globl vdso_image_pages_end
vdso_image_pages_end:
